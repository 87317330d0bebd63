"""The users, products, cart and shipping services, faked at the HTTP boundary (real local
servers).

The fake products service keeps stock and reservations in memory and answers
like the real one (all or nothing, idempotent by reference, release once), so
the saga is tested against the protocol, not against mocks of itself. The fake cart
keeps carts (users' and guests') and the fake shipping rates per country, and both
answer their internal APIs as docs/architecture.md describes them.

A test's hooks (``before``, ``garble``) run on the server's thread, while the code
under test waits for the answer: one that touches the database does so on that
thread's own connection (closed after it), so it sees only what is committed, and
its test needs ``django_db(transaction=True)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.db import connections

from souk_common.testing import FakeRequest, FakeService, FakeUsersService


def _failure(failures: dict[str, Any], operation: str) -> Any:
    """What a test set for ``operation``: an exception instance or a status code makes every
    call fail; a list of them fails the next calls in turn, then lets the operation work."""
    failure = failures.get(operation)
    if isinstance(failure, list):
        failure = failure.pop(0) if failure else None
    if isinstance(failure, BaseException):
        raise failure
    if isinstance(failure, int):
        return (failure, {}, json.dumps({"error": {"code": "internal_error"}}))
    return None


def _error(status: int, code: str, details: dict[str, Any]) -> tuple[int, dict, str]:
    return status, {}, json.dumps({"error": {"code": code, "message": code, "details": details}})


@dataclass
class FakeProduct:
    name: str
    price: Decimal
    stock: int
    is_active: bool = True


@dataclass
class FakeProducts:
    products: dict[int, FakeProduct] = field(default_factory=dict)
    reservations: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    # An exception instance or a status code makes every call of an operation fail;
    # a list of them fails the next calls in turn, then lets the operation work.
    failures: dict[str, Any] = field(default_factory=dict)
    # The operation happens, but its successful answer becomes what this makes of it...
    garble: dict[str, Callable[[Any], str]] = field(default_factory=dict)
    # ... or is lost: the caller gets this exception instead (a hang after the work).
    lost_answers: dict[str, BaseException] = field(default_factory=dict)
    # Like a products service from before "commit" on a reservation: hold only.
    ignores_commit: bool = False
    # Runs before an operation, while the caller waits (e.g. recovery racing the saga).
    before: dict[str, Callable[[], Any]] = field(default_factory=dict)

    def add(self, product_id: int, name: str, price: str, stock: int, **extra: Any) -> None:
        self.products[product_id] = FakeProduct(name, Decimal(price), stock, **extra)

    def stock(self, product_id: int) -> int:
        return self.products[product_id].stock

    def _fail(self, operation: str) -> Any:
        return _failure(self.failures, operation)

    @staticmethod
    def _answer(reservation: dict[str, Any], status: int = 200) -> tuple[int, dict, str]:
        body = {
            "reference": reservation["reference"],
            "status": reservation["status"],
            "items": reservation["items"],
        }
        return status, {}, json.dumps(body)

    @staticmethod
    def _error(status: int, code: str, details: dict[str, Any]) -> tuple[int, dict, str]:
        return _error(status, code, details)

    def reserve(self, request: FakeRequest) -> tuple[int, dict, str]:
        body = json.loads(request.body or b"{}")
        reference = body["reference"]
        self.calls.append(("reserve", reference))
        failed = self._fail("reserve")
        if failed:
            return failed
        items = sorted((i["product_id"], i["quantity"]) for i in body["items"])
        existing = self.reservations.get(reference)
        if existing:
            if existing["status"] == "released" and not existing["items"]:
                return self._error(409, "conflict", {})
            if existing["requested"] != items:
                return self._error(422, "idempotency_key_reused", {})
            if body.get("commit") and not self.ignores_commit:  # as products: sell on replay
                if existing["status"] == "released":
                    return self._error(409, "conflict", {})
                existing["status"] = "committed"
            return self._answer(existing, 201)
        unavailable = [
            pid for pid, _ in items if pid not in self.products or not self.products[pid].is_active
        ]
        if unavailable:
            return self._error(400, "validation_error", {"unavailable_products": unavailable})
        short = [
            {"product_id": pid, "requested": q, "available": self.products[pid].stock}
            for pid, q in items
            if self.products[pid].stock < q
        ]
        if short:
            return self._error(409, "out_of_stock", {"lines": short})
        for pid, quantity in items:
            self.products[pid].stock -= quantity
        sell = bool(body.get("commit")) and not self.ignores_commit
        reservation = {
            "reference": reference,
            "status": "committed" if sell else "reserved",
            "requested": items,
            "items": [
                {
                    "product_id": pid,
                    "name": self.products[pid].name,
                    "unit_price": str(self.products[pid].price),
                    "quantity": quantity,
                }
                for pid, quantity in items
            ],
        }
        self.reservations[reference] = reservation
        return self._answer(reservation, 201)

    def commit(self, request: FakeRequest) -> tuple[int, dict, str]:
        reference = _reference(request)
        self.calls.append(("commit", reference))
        failed = self._fail("commit")
        if failed:
            return failed
        reservation = self.reservations.get(reference)
        if reservation is None:
            return self._error(404, "not_found", {})
        if reservation["status"] == "released":
            return self._error(409, "conflict", {})
        reservation["status"] = "committed"
        return self._answer(reservation)

    def release(self, request: FakeRequest) -> tuple[int, dict, str]:
        reference = _reference(request)
        self.calls.append(("release", reference))
        failed = self._fail("release")
        if failed:
            return failed
        reservation = self.reservations.get(reference)
        if reservation is None:
            reservation = {
                "reference": reference,
                "status": "released",
                "requested": [],
                "items": [],
            }
            self.reservations[reference] = reservation
        elif reservation["status"] != "released":
            for pid, quantity in reservation["requested"]:
                self.products[pid].stock += quantity
            reservation["status"] = "released"
        return self._answer(reservation)

    def catalogue(self, request: FakeRequest) -> tuple[int, dict, str]:
        """``GET /api/products/?ids=...``: the public catalogue, products on sale only."""
        asked = parse_qs(urlsplit(request.url).query)["ids"][0]
        self.calls.append(("catalogue", asked))
        failed = self._fail("catalogue")
        if failed:
            return failed
        ids = sorted({int(pid) for pid in asked.split(",")})
        results = [
            {
                "id": pid,
                "name": self.products[pid].name,
                "price": str(self.products[pid].price),
                "is_active": True,
            }
            for pid in ids
            if pid in self.products and self.products[pid].is_active
        ]
        body = {"count": len(results), "next": None, "previous": None, "results": results}
        return 200, {}, json.dumps(body)

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.calls if name == operation)


def _reference(request: FakeRequest) -> str:
    match = re.search(r"/internal/reservations/([^/]+)/", request.path)
    assert match
    return match.group(1)


@dataclass
class FakeUsers(FakeUsersService):
    """The users service: accounts (souk_common's fake), whose answers a test may garble or lose."""

    garble: dict[str, Callable[[Any], str]] = field(default_factory=dict)
    lost_answers: dict[str, BaseException] = field(default_factory=dict)
    before: dict[str, Callable[[], Any]] = field(default_factory=dict)


@dataclass
class FakeCart:
    """The cart service's internal API (cart:checkout): users' carts and guests' carts,
    product id -> quantity. Its names and prices are made up: checkout must take
    products' instead."""

    carts: dict[int, dict[int, int]] = field(default_factory=dict)
    guests: dict[str, dict[int, int]] = field(default_factory=dict)
    calls: list[tuple[str, int]] = field(default_factory=list)
    server: FakeService | None = None  # where it answers (every request it received)
    failures: dict[str, Any] = field(default_factory=dict)
    garble: dict[str, Callable[[Any], str]] = field(default_factory=dict)
    lost_answers: dict[str, BaseException] = field(default_factory=dict)
    before: dict[str, Callable[[], Any]] = field(default_factory=dict)

    def fill(self, user_id: int, *lines: tuple[int, int]) -> None:
        self.carts[user_id] = dict(lines)

    def _fail(self, operation: str) -> Any:
        return _failure(self.failures, operation)

    def _answer(self, user_id: int) -> tuple[int, dict, str]:
        lines = self.carts.get(user_id, {})
        items = [
            {
                "product_id": pid,
                "name": f"Cart's name for {pid}",
                "unit_price": "0.01",
                "quantity": quantity,
                "line_total": f"{quantity / 100:.2f}",
                "available": True,
            }
            for pid, quantity in sorted(lines.items())
        ]
        body = {
            "id": f"cart-of-{user_id}",
            "items": items,
            "subtotal": f"{sum(lines.values()) / 100:.2f}",
            "item_count": sum(lines.values()),
            "expires_at": "2026-12-01T10:00:00Z",
        }
        return 200, {}, json.dumps(body)

    def get(self, request: FakeRequest) -> tuple[int, dict, str]:
        user_id = _user(request)
        self.calls.append(("get", user_id))
        return self._fail("get") or self._answer(user_id)

    def merge(self, request: FakeRequest) -> tuple[int, dict, str]:
        user_id = _user(request)
        self.calls.append(("merge", user_id))
        failed = self._fail("merge")
        if failed:
            return failed
        guest = self.guests.get(request.json()["cart_id"])
        if guest is None:
            return _error(404, "not_found", {})
        mine = self.carts.setdefault(user_id, {})
        if len(set(mine) | set(guest)) > 50:
            return (
                400,
                {},
                json.dumps(
                    {
                        "error": {
                            "code": "validation_error",
                            "message": "A cart holds at most 50 products.",
                        }
                    }
                ),
            )
        del self.guests[request.json()["cart_id"]]
        for pid, quantity in guest.items():
            mine[pid] = min(1000, mine.get(pid, 0) + quantity)
        return self._answer(user_id)

    def empty(self, request: FakeRequest) -> tuple[int, dict, str]:
        user_id = _user(request)
        self.calls.append(("empty", user_id))
        failed = self._fail("empty")
        if failed:
            return failed
        self.carts.pop(user_id, None)
        return 204, {}, ""

    def count(self, operation: str) -> int:
        return sum(1 for name, _ in self.calls if name == operation)


def _user(request: FakeRequest) -> int:
    match = re.search(r"/internal/carts/users/(\d+)/", request.path)
    assert match
    return int(match.group(1))


@dataclass
class FakeShipping:
    """The shipping service's internal quotes (shipping:quote): a rate per country
    (carrier, base cost, cost per item, free from this subtotal, days)."""

    rates: dict[str, tuple[str, str, str, str, int]] = field(
        default_factory=lambda: {
            "FR": ("La Poste", "4.90", "0.50", "100.00", 3),
            "GB": ("Royal Mail", "7.50", "1.00", "150.00", 4),
        }
    )
    quotes: list[dict[str, Any]] = field(default_factory=list)  # what was asked
    server: FakeService | None = None  # where it answers (every request it received)
    failures: dict[str, Any] = field(default_factory=dict)
    garble: dict[str, Callable[[Any], str]] = field(default_factory=dict)
    lost_answers: dict[str, BaseException] = field(default_factory=dict)
    before: dict[str, Callable[[], Any]] = field(default_factory=dict)

    def _fail(self, operation: str) -> Any:
        return _failure(self.failures, operation)

    def quote(self, request: FakeRequest) -> tuple[int, dict, str]:
        body = request.json()
        self.quotes.append(body)
        failed = self._fail("quote")
        if failed:
            return failed
        country = body["address"]["country"]
        if country not in self.rates:
            details = {"address": {"country": [f"We do not ship to {country}."]}}
            return _error(400, "validation_error", details)
        carrier, base, per_item, free_over, days = self.rates[country]
        subtotal = Decimal(body["subtotal"])
        cost = Decimal(base) + Decimal(per_item) * body["item_count"]
        if subtotal >= Decimal(free_over):
            cost = Decimal("0.00")
        answer = {"cost": f"{cost:.2f}", "carrier": carrier, "estimated_days": days}
        return 200, {}, json.dumps(answer)


Answer = tuple[int, dict, str]


def _answering(
    fake: FakeProducts | FakeUsers | FakeCart | FakeShipping,
    operation: str,
    callback: Callable[[FakeRequest], Answer],
) -> Callable[[FakeRequest], Answer]:
    """``callback``, after the test's ``before`` hook, with its successful answer garbled
    or lost if the test says so."""

    def answer(request: FakeRequest) -> Answer:
        try:
            if operation in fake.before:
                fake.before[operation]()
            status, headers, body = callback(request)
            if status < 300 and operation in fake.lost_answers:
                raise fake.lost_answers[operation]
            if status < 300 and operation in fake.garble:
                body = fake.garble[operation](json.loads(body))
            return status, headers, body
        finally:
            connections.close_all()  # a hook's, on this thread

    return answer


def install(
    products_server: FakeService,
    users_server: FakeService,
    products: FakeProducts,
    users: FakeUsers,
) -> None:
    """Answer as products and users on the two servers."""
    users_server.add(
        "POST",
        "/internal/auth/token/",
        json={"access": "service-token", "expires_in": 300, "token_type": "Bearer"},
    )
    users_server.add_callback(
        "GET", re.compile(r"/internal/users/\d+/"), _answering(users, "account", users.account)
    )
    products_server.add_callback(
        "POST", "/internal/reservations/", _answering(products, "reserve", products.reserve)
    )
    products_server.add_callback(
        "GET", "/api/products/", _answering(products, "catalogue", products.catalogue)
    )
    for operation in ("commit", "release"):
        products_server.add_callback(
            "POST",
            re.compile(rf"/internal/reservations/[^/]+/{operation}/"),
            _answering(products, operation, getattr(products, operation)),
        )


def install_cart(server: FakeService, cart: FakeCart) -> None:
    """Answer as the cart service's internal API on ``server``."""
    cart.server = server
    user = r"/internal/carts/users/\d+/"
    server.add_callback("GET", re.compile(user), _answering(cart, "get", cart.get))
    server.add_callback("POST", re.compile(user + "merge/"), _answering(cart, "merge", cart.merge))
    server.add_callback("DELETE", re.compile(user), _answering(cart, "empty", cart.empty))


def install_shipping(server: FakeService, shipping: FakeShipping) -> None:
    """Answer as the shipping service's internal quotes on ``server``."""
    shipping.server = server
    server.add_callback("POST", "/internal/quotes/", _answering(shipping, "quote", shipping.quote))
