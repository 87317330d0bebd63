"""The system-test harness: the stack the tests drive, and what they do through its gateway."""

from __future__ import annotations

import functools
import time
import uuid

import requests

import stack
from souk_common.test_servers import OtlpReceiver, SmtpServer, TcpProxy


class RunningStack(stack.RunningStack):
    """The stack's processes, as the tests start, stop and hang them, and one HTTP client.

    ``smtp`` is the mail server the services send through (its ``mail`` is what arrived);
    ``broker_proxy`` stands between every process and RabbitMQ (``cut()``, ``restore()``),
    ``None`` on the embedded broker, which has no connection to cut; ``otlp`` is the
    collector every process exports its spans to.
    """

    smtp: SmtpServer | None = None
    broker_proxy: TcpProxy | None = None
    otlp: OtlpReceiver | None = None

    @functools.cached_property
    def http(self) -> requests.Session:
        return requests.Session()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


PASSWORD = "e2e-correct-horse-battery"


def register_and_sign_in(system: RunningStack, username: str) -> dict[str, str]:
    """A new account through the gateway; its token pair."""
    response = system.http.post(
        f"{system.gateway}/api/users/",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return sign_in(system, username)


def sign_in(system: RunningStack, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = system.http.post(
        f"{system.gateway}/api/auth/token/",
        json={"username": username, "password": password},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_accounts(system: RunningStack, count: int, prefix: str) -> list[tuple[int, str]]:
    """``count`` active accounts with genuine access tokens (see ``Stack.create_accounts``)."""
    return system.stack.create_accounts(count, prefix)


def admin_headers(system: RunningStack) -> dict[str, str]:
    return bearer(sign_in(system, "admin", system.stack.admin_password)["access"])


def new_product(system: RunningStack, stock: int, price: str = "2.50") -> int:
    """A product with ``stock`` units, created by staff through the gateway."""
    sku = f"T-{uuid.uuid4().hex[:10]}"
    response = system.http.post(
        f"{system.gateway}/api/products/",
        json={"sku": sku, "name": sku, "price": price, "stock": stock, "category": "tea"},
        headers=admin_headers(system),
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def product_stock(system: RunningStack, product_id: int) -> int:
    response = system.http.get(
        f"{system.gateway}/api/products/{product_id}/", headers=admin_headers(system), timeout=10
    )
    return int(response.json()["stock"])


def place_order(
    system: RunningStack,
    token: str,
    lines: list[tuple[int, int]],
    key: str | None = None,
    timeout: float = 30,
) -> requests.Response:
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return requests.post(
        f"{system.gateway}/api/orders/",
        json={"items": [{"product_id": p, "quantity": q} for p, q in lines]},
        headers=headers,
        timeout=timeout,
    )


def orders_of(system: RunningStack, order_ids: list[str]) -> list[dict[str, object]]:
    """The orders, read by staff through the gateway."""
    headers = admin_headers(system)
    return [
        system.http.get(f"{system.gateway}/api/orders/{oid}/", headers=headers, timeout=10).json()
        for oid in order_ids
    ]


def check_stock_invariant(system: RunningStack) -> None:
    system.stack.manage("products", "check_stock_invariant", capture=True)


# The shop: carts, checkout and an order's life after it ---------------------------------

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}


def guest_cart(system: RunningStack) -> str:
    """A new guest cart's id."""
    response = system.http.post(f"{system.gateway}/api/cart/", timeout=10)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def put_in_cart(
    system: RunningStack, product_id: int, quantity: int, *, cart_id=None, token=None
) -> dict[str, object]:
    """Set a line of a guest cart (``cart_id``) or of a user's (``token``); the cart after."""
    headers = bearer(token) if token else {"X-Cart-ID": cart_id}
    response = system.http.put(
        f"{system.gateway}/api/cart/items/{product_id}/",
        json={"quantity": quantity},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def checkout(
    system: RunningStack,
    token: str,
    payment_token: str = "tok_visa",
    *,
    cart_id: str | None = None,
    key: str | None = None,
    timeout: float = 30,
) -> requests.Response:
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    body: dict[str, object] = {"shipping_address": ADDRESS, "payment_token": payment_token}
    if cart_id is not None:
        body["cart_id"] = cart_id
    return requests.post(
        f"{system.gateway}/api/checkout/", json=body, headers=headers, timeout=timeout
    )


def order_of(system: RunningStack, token: str, order_id: str) -> dict[str, object]:
    response = system.http.get(
        f"{system.gateway}/api/orders/{order_id}/", headers=bearer(token), timeout=10
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_for_status(
    system: RunningStack, token: str, order_id: str, status: str, timeout: float = 60
) -> dict[str, object]:
    """The order once it has ``status`` (as its owner sees it); fails after ``timeout``."""
    seen: list[object] = []

    def reached():
        order = order_of(system, token, order_id)
        seen.append(order["status"])
        return order if order["status"] == status else None

    try:
        return wait_for(reached, timeout=timeout, interval=0.25)
    except AssertionError:
        raise AssertionError(f"order {order_id} never {status}: last {seen[-1:]}") from None


def payments_of(system: RunningStack, token: str, order_id: str) -> list[dict[str, object]]:
    response = system.http.get(
        f"{system.gateway}/api/payments/",
        params={"order_id": order_id},
        headers=bearer(token),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def mail_to(system: RunningStack, address: str) -> list:
    assert system.smtp is not None
    return [mail for mail in system.smtp.mail if mail.to == address]
