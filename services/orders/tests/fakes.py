"""The users and products services, faked at the HTTP boundary (real local servers).

The fake products service keeps stock and reservations in memory and answers
like the real one (all or nothing, idempotent by reference, release once), so
the saga is tested against the protocol, not against mocks of itself.

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

from django.db import connections

from souk_common.testing import FakeRequest, FakeService, FakeUsersService


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
        failure = self.failures.get(operation)
        if isinstance(failure, list):
            failure = failure.pop(0) if failure else None
        if isinstance(failure, BaseException):
            raise failure
        if isinstance(failure, int):
            return (failure, {}, json.dumps({"error": {"code": "internal_error"}}))
        return None

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
        return (
            status,
            {},
            json.dumps({"error": {"code": code, "message": code, "details": details}}),
        )

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


Answer = tuple[int, dict, str]


def _answering(
    fake: FakeProducts | FakeUsers,
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
    for operation in ("commit", "release"):
        products_server.add_callback(
            "POST",
            re.compile(rf"/internal/reservations/[^/]+/{operation}/"),
            _answering(products, operation, getattr(products, operation)),
        )
