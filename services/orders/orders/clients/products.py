"""The products service, as orders sees it: reserve, commit and release stock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from souk_common.clients import ServiceClient, ServiceResponse
from souk_common.errors import BadGateway, UpstreamUnavailable


@dataclass(frozen=True)
class ReservedLine:
    product_id: int
    name: str
    unit_price: Decimal
    quantity: int


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

    def reserve(self, reference: str, items: Iterable[tuple[int, int]]) -> Reservation:
        """Hold stock for every (product id, quantity), or raise why not."""
        body = {
            "reference": reference,
            "items": [{"product_id": pid, "quantity": qty} for pid, qty in items],
        }
        return self._reservation(self._call("/internal/reservations/", body), expected=201)

    def commit(self, reference: str) -> Reservation:
        """Held stock becomes sold."""
        return self._reservation(self._call(f"/internal/reservations/{reference}/commit/"))

    def release(self, reference: str) -> Reservation:
        """Stock goes back (held or sold); safe to repeat, and before a reservation."""
        return self._reservation(self._call(f"/internal/reservations/{reference}/release/"))

    def _call(self, path: str, body: Any = None) -> ServiceResponse:
        try:
            return self._client.post(path, json=body, idempotent=True)
        except BadGateway as exc:
            # Unreachable products means the order cannot be placed now: 503, not 502.
            raise UpstreamUnavailable(str(exc.message), retry_after=2) from exc

    @staticmethod
    def _reservation(response: ServiceResponse, expected: int = 200) -> Reservation:
        body = response.json() or {}
        error = body.get("error", {}) if isinstance(body, dict) else {}
        if response.status == expected:
            return Reservation(
                reference=body["reference"],
                status=body["status"],
                lines=tuple(
                    ReservedLine(
                        product_id=int(item["product_id"]),
                        name=str(item["name"]),
                        unit_price=Decimal(item["unit_price"]),
                        quantity=int(item["quantity"]),
                    )
                    for item in body["items"]
                ),
            )
        message, details = error.get("message", ""), error.get("details", {})
        if response.status == 409 and error.get("code") == "out_of_stock":
            raise OutOfStock(message, details)
        if response.status == 409:
            raise ReservationReleased(message, details)
        if response.status == 400 and "unavailable_products" in details:
            raise ProductsUnavailable(message, details)
        raise BadGateway(f"The products service answered {response.status} unexpectedly.")
