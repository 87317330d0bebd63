"""The cart service, as a checkout sees it: the user's cart (a guest cart merged into it
first, if the checkout names one), and emptying it once the order is placed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from souk_common.clients import ServiceClient, ServiceResponse
from souk_common.errors import BadGateway, UpstreamUnavailable

#: A cart line holds 1 to 1000 of its product, as an order line does.
MAX_QUANTITY = 1000


@dataclass(frozen=True)
class CartLine:
    """A product and how many of it; its name and price are for products to say."""

    product_id: int
    quantity: int


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...]


class GuestCartNotFound(Exception):
    """The guest cart to merge does not exist, or has expired."""


class MergeRefused(Exception):
    """The cart service would not merge the guest cart (the user's cart would hold too
    many products, say); ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CartClient:
    """Reads and empties a user's cart through the cart service's internal API
    (``cart:checkout``)."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def user_cart(self, user_id: int) -> Cart:
        """The user's cart (an empty one if they have none)."""
        response = self._call("GET", f"/internal/carts/users/{user_id}/")
        return _cart(response)

    def merge(self, user_id: int, cart_id: str) -> Cart:
        """Merge the guest cart ``cart_id`` into the user's, and return the user's cart.

        Not retried: the guest cart is gone once merged, so a second attempt would be
        told it does not exist.
        """
        response = self._call(
            "POST",
            f"/internal/carts/users/{user_id}/merge/",
            json={"cart_id": cart_id},
            idempotent=False,
        )
        if response.status == 404:
            raise GuestCartNotFound(cart_id)
        if response.status == 400:
            raise MergeRefused(_message(response) or "The carts cannot be merged.")
        return _cart(response)

    def empty(self, user_id: int) -> None:
        """Empty the user's cart (idempotent)."""
        response = self._call("DELETE", f"/internal/carts/users/{user_id}/")
        if response.status not in (200, 204):
            raise BadGateway(f"The cart service answered {response.status} unexpectedly.")

    def _call(self, method: str, path: str, **kwargs: Any) -> ServiceResponse:
        try:
            return self._client.request(method, path, **kwargs)
        except BadGateway as exc:
            # An unreachable cart means no checkout now: 503, not 502.
            raise UpstreamUnavailable(str(exc.message), retry_after=2) from exc


def _cart(response: ServiceResponse) -> Cart:
    """The cart in the cart service's answer, checked as strictly as a client's request:
    an answer that is not what the protocol says is a 502."""
    if response.status != 200:
        raise BadGateway(f"The cart service answered {response.status} unexpectedly.")
    body = response.json()
    try:
        items = body["items"]
        if not isinstance(items, list):
            raise TypeError(items)
        lines = tuple(
            CartLine(
                product_id=_whole(item["product_id"], 2**63 - 1),
                quantity=_whole(item["quantity"], MAX_QUANTITY),
            )
            for item in items
        )
        if len({line.product_id for line in lines}) != len(lines):
            raise ValueError("a product on two lines")
        return Cart(lines=lines)
    except (KeyError, TypeError, ValueError):
        raise BadGateway("The cart service answered with a cart that makes no sense.") from None


def _message(response: ServiceResponse) -> str:
    """The message of an error the cart service answered, if it said one."""
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message[:500] if isinstance(message, str) else ""


def _whole(value: Any, maximum: int) -> int:
    if type(value) is not int or not 1 <= value <= maximum:
        raise ValueError(value)
    return value
