"""The products service, as orders sees it: reserve, commit and release stock; and, for an
order refused or failed before products priced it, the names and prices of its products
in the public catalogue (``GET /api/products/?ids=...``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from souk_common.clients import ServiceClient, ServiceResponse
from souk_common.errors import BadGateway, UpstreamUnavailable

CENT = Decimal("0.01")
#: The most ids the catalogue answers about in one page (an order has at most 50 lines).
MAX_IDS = 100
#: Seconds the catalogue has to answer (:meth:`ProductsClient.catalogue`).
CATALOGUE_TIMEOUT = 1.0


@dataclass(frozen=True)
class ReservedLine:
    product_id: int
    name: str
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class CataloguedProduct:
    """A product on sale, as the catalogue shows it now."""

    product_id: int
    name: str
    price: Decimal


@dataclass(frozen=True)
class Reservation:
    reference: str
    status: str
    lines: tuple[ReservedLine, ...]


class ReservationRefused(Exception):
    """Products answered, and said no; ``details`` is what it said."""

    def __init__(self, message: str, details: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details)


class OutOfStock(ReservationRefused):
    """Some lines are short: ``details["lines"]`` names them with what is available."""


class ProductsUnavailable(ReservationRefused):
    """Some products do not exist or are retired: ``details["unavailable_products"]``."""


class ReservationReleased(ReservationRefused):
    """The reservation was released before it could be made or committed."""


class ProductsClient:
    """All calls are idempotent by reference, so the client may retry every one of them."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def reserve(
        self, reference: str, items: Iterable[tuple[int, int]], *, commit: bool = False
    ) -> Reservation:
        """Hold stock for every (product id, quantity), or raise why not; with ``commit``,
        sell it at once (one call instead of reserve then commit)."""
        requested = sorted(items)
        body: dict[str, Any] = {
            "reference": reference,
            "items": [{"product_id": pid, "quantity": qty} for pid, qty in requested],
        }
        if commit:
            body["commit"] = True
        answer = self._call("/internal/reservations/", body)
        reservation = self._reservation(answer, reference, expected=201)
        if sorted((line.product_id, line.quantity) for line in reservation.lines) != requested:
            raise BadGateway("The products service reserved something other than what was asked.")
        return reservation

    def commit(self, reference: str) -> Reservation:
        """Held stock becomes sold."""
        answer = self._call(f"/internal/reservations/{reference}/commit/")
        return self._reservation(answer, reference)

    def release(self, reference: str) -> Reservation:
        """Stock goes back (held or sold); safe to repeat, and before a reservation."""
        answer = self._call(f"/internal/reservations/{reference}/release/")
        return self._reservation(answer, reference)

    def catalogue(self, product_ids: Iterable[int]) -> dict[int, CataloguedProduct]:
        """The products among ``product_ids`` on sale now, by id, in one call; an id left
        out does not exist or is retired.

        One attempt (a pooled connection found closed is replaced, once), given a second
        at most: it only names an order that sold nothing, while its client waits."""
        asked = sorted(set(product_ids))
        if not asked:
            return {}
        if len(asked) > MAX_IDS:
            raise ValueError(f"at most {MAX_IDS} products in one call")
        params = {"ids": ",".join(map(str, asked)), "page_size": str(MAX_IDS)}
        response = self._client.get(
            "/api/products/", params=params, idempotent=False, read_timeout=CATALOGUE_TIMEOUT
        )
        if response.status != 200:
            raise BadGateway(f"The products service answered {response.status} unexpectedly.")
        return {
            product.product_id: product
            for product in _parse_catalogue(response.json())
            if product.product_id in asked
        }

    def _call(self, path: str, body: Any = None) -> ServiceResponse:
        try:
            return self._client.post(path, json=body, idempotent=True)
        except BadGateway as exc:
            # Unreachable products means the order cannot be placed now: 503, not 502.
            raise UpstreamUnavailable(str(exc.message), retry_after=2) from exc

    @staticmethod
    def _reservation(response: ServiceResponse, reference: str, expected: int = 200) -> Reservation:
        body = response.json()
        if response.status == expected:
            reservation = _parse_reservation(body)
            if reservation.reference != reference:
                raise BadGateway("The products service answered about another reservation.")
            return reservation
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        details = error.get("details")
        details = details if isinstance(details, dict) else {}
        message = str(error.get("message", ""))
        if response.status == 409 and error.get("code") == "out_of_stock":
            raise OutOfStock(message, details)
        if response.status == 409:
            raise ReservationReleased(message, details)
        if response.status == 400 and "unavailable_products" in details:
            raise ProductsUnavailable(message, details)
        raise BadGateway(f"The products service answered {response.status} unexpectedly.")


def _parse_reservation(body: Any) -> Reservation:
    """A reservation from products' answer, checked as strictly as a client's request:
    an answer that is not what the protocol says is a 502, never a 500 or a bad order."""
    try:
        lines = tuple(
            ReservedLine(
                product_id=_whole(item["product_id"]),
                name=_text(item["name"], max_length=200),
                unit_price=_money(item["unit_price"]),
                quantity=_whole(item["quantity"]),
            )
            for item in body["items"]
        )
        return Reservation(
            reference=_text(body["reference"]), status=_text(body["status"]), lines=lines
        )
    except (KeyError, TypeError, ValueError, ArithmeticError):
        raise BadGateway(
            "The products service answered with a reservation that makes no sense."
        ) from None


def _parse_catalogue(body: Any) -> list[CataloguedProduct]:
    """A page of the catalogue, checked as strictly as a reservation: nonsense is a 502."""
    try:
        return [
            CataloguedProduct(
                product_id=_whole(item["id"]),
                name=_text(item["name"], max_length=200),
                price=_money(item["price"]),
            )
            for item in body["results"]
            if item["is_active"] is True
        ]
    except (KeyError, TypeError, ValueError, ArithmeticError):
        raise BadGateway(
            "The products service answered with products that make no sense."
        ) from None


def _whole(value: Any) -> int:
    if type(value) is not int or value < 1:
        raise ValueError(value)
    return value


def _text(value: Any, max_length: int = 64) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        raise ValueError(value)
    return value


def _money(value: Any) -> Decimal:
    """A price as OrderLine stores it: at most 8 digits before the point, 2 after."""
    amount = Decimal(_text(value))
    if not amount.is_finite() or not 0 <= amount < 10**8 or amount != amount.quantize(CENT):
        raise ValueError(value)
    return amount
