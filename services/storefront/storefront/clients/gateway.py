"""Souk's public API as the storefront sees it: typed answers, and the error envelope as
:class:`ApiError`.

One :class:`souk_common.clients.ServiceClient` per part of the API (catalogue, cart,
orders...), all at the gateway's address: each has a breaker of its own, so a part that
keeps failing stops being called while the others go on. A call carries the shopper's
credentials as headers (``Authorization``, ``X-Cart-ID``, ``Idempotency-Key``): the client
is shared by every request of the process, never holding anyone's token.

With ``GATEWAY_FRONTEND_SECRET`` set, every call also names the browser it is made for
(``X-Forwarded-For``, with the secret in ``X-Souk-Frontend-Secret``), so that the
gateway's rate limits count each browser, not the storefront as one client.

Failures the gateway reports in the envelope (429 with ``Retry-After``, 503, 504) come back
as :class:`ApiError`; a gateway that cannot be reached, or fails with a 5xx, raises
souk_common's ``BadGateway``/``UpstreamTimeout``/``UpstreamUnavailable``, as any
ServiceClient does.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings

from souk_common.breaker import CircuitBreaker
from souk_common.clients import ServiceClient, ServiceResponse

AREAS = ("products", "cart", "orders", "users", "shipping")
#: The address of the browser the current request comes from (storefront.middleware).
shopper_address: ContextVar[str] = ContextVar("shopper_address", default="")


class ApiError(Exception):
    """The API refused: its status and error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: Mapping[str, Any] = details or {}
        self.retry_after = retry_after

    @classmethod
    def from_response(cls, response: ServiceResponse) -> ApiError:
        try:
            error = response.json()["error"]
        except (KeyError, TypeError, ValueError):  # not the envelope: say what we know
            error = {}
        retry_after = response.headers.get("retry-after") or response.headers.get("Retry-After")
        return cls(
            response.status,
            str(error.get("code", "error")),
            str(error.get("message", f"The shop answered {response.status}.")),
            error.get("details") if isinstance(error.get("details"), dict) else {},
            int(retry_after) if retry_after and retry_after.isdigit() else None,
        )


# Answers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    description: str
    price: Decimal
    stock: int
    category: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Product:
        return cls(
            id=int(data["id"]),
            sku=str(data["sku"]),
            name=str(data["name"]),
            description=str(data.get("description") or ""),
            price=Decimal(data["price"]),
            stock=int(data["stock"]),
            category=str(data.get("category") or ""),
        )


# The API's lists count this far and no further (souk_common.pagination.COUNT_LIMIT).
COUNT_LIMIT = 1000


@dataclass(frozen=True)
class Category:
    name: str
    slug: str


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, how many there are in all (up to the API's count
    limit), and where the next page is.

    The API counts a list up to :data:`COUNT_LIMIT` and numbers its pages that far; past
    it, its ``next`` link carries a ``cursor`` instead of a page number. ``number`` is
    None for a page reached by cursor.
    """

    items: list[Any]
    count: int
    number: int | None
    size: int
    next_link: str | None = None

    @property
    def count_is_capped(self) -> bool:
        """The list holds at least ``count`` items: "1000+"."""
        return self.count >= COUNT_LIMIT

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number is None or self.number > 1

    @property
    def has_next(self) -> bool:
        return self.next_link is not None

    @property
    def next_cursor(self) -> str:
        """The cursor of the next page, when the API gave one ("" for a numbered page)."""
        if self.next_link is None:
            return ""
        return parse_qs(urlsplit(self.next_link).query).get("cursor", [""])[0]


@dataclass(frozen=True)
class CartLine:
    product_id: int
    name: str
    unit_price: Decimal | None
    quantity: int
    line_total: Decimal | None
    available: bool


@dataclass(frozen=True)
class Cart:
    id: str
    lines: list[CartLine]
    subtotal: Decimal
    item_count: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cart:
        return cls(
            id=str(data["id"]),
            lines=[
                CartLine(
                    product_id=int(line["product_id"]),
                    name=str(line.get("name") or f"Product {line['product_id']}"),
                    unit_price=_money(line.get("unit_price")),
                    quantity=int(line["quantity"]),
                    line_total=_money(line.get("line_total")),
                    available=bool(line.get("available", True)),
                )
                for line in data.get("items", [])
            ],
            subtotal=Decimal(data.get("subtotal") or "0"),
            item_count=int(data.get("item_count") or 0),
        )

    @property
    def is_empty(self) -> bool:
        return not self.lines

    def name_of(self, product_id: int) -> str:
        for line in self.lines:
            if line.product_id == product_id:
                return line.name
        return f"Product {product_id}"


@dataclass(frozen=True)
class Quote:
    cost: Decimal
    carrier: str
    estimated_days: int
    free_over: Decimal | None


@dataclass(frozen=True)
class Country:
    code: str
    name: str


@dataclass(frozen=True)
class OrderLine:
    product_id: int
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal


@dataclass(frozen=True)
class Payment:
    status: str
    transaction_id: str | None
    reason: str | None


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str


@dataclass(frozen=True)
class Order:
    id: str
    status: str
    lines: list[OrderLine]
    total: Decimal
    created_at: datetime
    subtotal: Decimal | None = None
    shipping_cost: Decimal | None = None
    shipping_address: Mapping[str, str] = field(default_factory=dict)
    payment: Payment | None = None
    shipment: Shipment | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Order:
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            lines=[
                OrderLine(
                    product_id=int(line["product_id"]),
                    name=str(line["name"]),
                    unit_price=Decimal(line["unit_price"]),
                    quantity=int(line["quantity"]),
                    line_total=Decimal(line["line_total"]),
                )
                for line in data.get("items", [])
            ],
            total=Decimal(data["total"]),
            created_at=datetime.fromisoformat(str(data["created_at"]).replace("Z", "+00:00")),
            subtotal=_money(data.get("subtotal")),
            shipping_cost=_money(data.get("shipping_cost")),
            shipping_address=data.get("shipping_address") or {},
            payment=_payment(data.get("payment")),
            shipment=_shipment(data.get("shipment")),
        )


@dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str


def _payment(data: Mapping[str, Any] | None) -> Payment | None:
    if not data:
        return None
    return Payment(
        status=str(data.get("status", "")),
        transaction_id=data.get("transaction_id"),
        reason=data.get("reason"),
    )


def _shipment(data: Mapping[str, Any] | None) -> Shipment | None:
    if not data:
        return None
    return Shipment(carrier=str(data["carrier"]), tracking_number=str(data["tracking_number"]))


def _money(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(value)


# Calls ------------------------------------------------------------------------------


class Gateway:
    """Souk's public API. ``headers`` name who asks (see the module docstring)."""

    def __init__(
        self,
        clients: Mapping[str, ServiceClient],
        *,
        frontend_secret: str = "",
        checkout_timeout: float | None = None,
    ) -> None:
        self._clients = clients
        self._frontend_secret = frontend_secret
        self._checkout_timeout = checkout_timeout

    def _call(
        self,
        area: str,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        **options: Any,
    ) -> ServiceResponse:
        sent = dict(headers or {})
        address = shopper_address.get()
        if self._frontend_secret and address:
            sent |= {"X-Forwarded-For": address, "X-Souk-Frontend-Secret": self._frontend_secret}
        response = self._clients[area].request(method, path, headers=sent, **options)
        if response.status not in expect:
            raise ApiError.from_response(response)
        return response

    # Catalogue (public)

    def products(self, *, params: Mapping[str, str], page_size: int) -> Page:
        query = {**params, "page_size": str(page_size)}
        data = self._call("products", "GET", "/api/products/", params=query).json()
        return Page(
            items=[Product.from_json(item) for item in data["results"]],
            count=int(data["count"]),
            number=None if "cursor" in params else int(params.get("page") or 1),
            size=page_size,
            next_link=data.get("next"),
        )

    def product(self, product_id: int) -> Product:
        return Product.from_json(
            self._call("products", "GET", f"/api/products/{product_id}/").json()
        )

    def categories(self) -> list[Category]:
        data = self._call(
            "products", "GET", "/api/products/categories/", params={"page_size": "100"}
        )
        return [Category(str(c["name"]), str(c["slug"])) for c in data.json()["results"]]

    # Accounts

    def sign_up(self, *, username: str, email: str, password: str) -> None:
        body = {"username": username, "email": email, "password": password}
        self._call("users", "POST", "/api/users/", json=body, expect=(201,))

    def token(self, *, username: str, password: str) -> Tokens:
        body = {"username": username, "password": password}
        data = self._call("users", "POST", "/api/auth/token/", json=body).json()
        return Tokens(str(data["access"]), str(data["refresh"]))

    def refresh(self, refresh: str) -> Tokens:
        body = {"refresh": refresh}
        data = self._call("users", "POST", "/api/auth/token/refresh/", json=body).json()
        return Tokens(str(data["access"]), str(data["refresh"]))

    def sign_out(self, refresh: str) -> None:
        body = {"refresh": refresh}
        self._call("users", "POST", "/api/auth/logout/", json=body, expect=(204,))

    def password_reset(self, *, email: str) -> None:
        body = {"email": email}
        self._call("users", "POST", "/api/auth/password-reset/", json=body, expect=(202,))

    def password_reset_confirm(self, *, token: str, new_password: str) -> None:
        body = {"token": token, "new_password": new_password}
        path = "/api/auth/password-reset/confirm/"
        self._call("users", "POST", path, json=body, expect=(204,))

    def verify_email(self, *, token: str) -> None:
        body = {"token": token}
        self._call("users", "POST", "/api/auth/verify-email/", json=body, expect=(204,))

    # Cart

    def cart_create(self) -> Cart:
        return Cart.from_json(self._call("cart", "POST", "/api/cart/", expect=(201,)).json())

    def cart(self, *, headers: Mapping[str, str]) -> Cart:
        return Cart.from_json(self._call("cart", "GET", "/api/cart/", headers=headers).json())

    def cart_set(self, product_id: int, quantity: int, *, headers: Mapping[str, str]) -> Cart:
        path, body = f"/api/cart/items/{product_id}/", {"quantity": quantity}
        return Cart.from_json(self._call("cart", "PUT", path, json=body, headers=headers).json())

    def cart_remove(self, product_id: int, *, headers: Mapping[str, str]) -> Cart:
        path = f"/api/cart/items/{product_id}/"
        return Cart.from_json(self._call("cart", "DELETE", path, headers=headers).json())

    def cart_merge(self, cart_id: str, *, headers: Mapping[str, str]) -> Cart:
        body = {"cart_id": cart_id}
        # Not retried: a merge that worked and was not answered would then find no cart.
        data = self._call("cart", "POST", "/api/cart/merge/", json=body, headers=headers).json()
        return Cart.from_json(data)

    # Shipping (public)

    def countries(self) -> list[Country]:
        data = self._call("shipping", "GET", "/api/shipping/countries/").json()
        return [Country(str(c["country"]), str(c["name"])) for c in data["results"]]

    def quote(self, *, items: list[dict[str, int]], country: str, postal_code: str) -> Quote:
        body = {"items": items, "address": {"country": country, "postal_code": postal_code}}
        data = self._call("shipping", "POST", "/api/shipping/quotes/", json=body).json()
        free_over = data.get("free_over")
        return Quote(
            cost=Decimal(data["cost"]),
            carrier=str(data["carrier"]),
            estimated_days=int(data["estimated_days"]),
            free_over=Decimal(free_over) if free_over else None,
        )

    # Orders

    def checkout(self, body: Mapping[str, Any], *, headers: Mapping[str, str]) -> Order:
        # Keyed by Idempotency-Key: sending it again can only give the same order.
        response = self._call(
            "orders", "POST", "/api/checkout/", json=body, headers=headers,
            expect=(202,), idempotent=True, read_timeout=self._checkout_timeout,
        )  # fmt: skip
        return Order.from_json(response.json())

    def orders(
        self, *, page: int, page_size: int, headers: Mapping[str, str], cursor: str = ""
    ) -> Page:
        params = {"cursor": cursor} if cursor else {"page": str(page)}
        params["page_size"] = str(page_size)
        data = self._call("orders", "GET", "/api/orders/", params=params, headers=headers).json()
        return Page(
            items=[Order.from_json(item) for item in data["results"]],
            count=int(data["count"]),
            number=None if cursor else page,
            size=page_size,
            next_link=data.get("next"),
        )

    def order(self, order_id: str, *, headers: Mapping[str, str]) -> Order:
        return Order.from_json(
            self._call("orders", "GET", f"/api/orders/{order_id}/", headers=headers).json()
        )

    def order_cancel(self, order_id: str, *, headers: Mapping[str, str]) -> Order:
        path = f"/api/orders/{order_id}/cancel/"
        # Cancelling twice is answered 200 with nothing done twice: safe to send again.
        response = self._call("orders", "POST", path, headers=headers, idempotent=True)
        return Order.from_json(response.json())


@functools.cache
def gateway() -> Gateway:
    """The process's client of the API (settings.STOREFRONT)."""
    options: dict[str, Any] = settings.STOREFRONT
    return Gateway(
        {
            area: ServiceClient(
                f"gateway ({area})",
                options["GATEWAY_URL"],
                connect_timeout=options["CONNECT_TIMEOUT"],
                read_timeout=options["READ_TIMEOUT"],
                retries=options["RETRIES"],
                breaker=CircuitBreaker(
                    failure_threshold=options["BREAKER_FAILURES"],
                    reset_timeout=options["BREAKER_RESET_SECONDS"],
                ),
            )
            for area in AREAS
        },
        frontend_secret=options["FRONTEND_SECRET"],
        checkout_timeout=options["CHECKOUT_READ_TIMEOUT"],
    )


def reset() -> None:
    """Forget the client (tests change its settings)."""
    gateway.cache_clear()
