"""The shipping service, as a checkout sees it: what shipping an order costs, and by whom."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from souk_common.clients import ServiceClient
from souk_common.errors import BadGateway, UpstreamUnavailable

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Quote:
    cost: Decimal
    carrier: str
    estimated_days: int


class AddressNotShipped(Exception):
    """Shipping refused the address (a country it does not ship to, say); ``details`` is
    what it said about each of the address's fields."""

    def __init__(self, details: Mapping[str, Any]) -> None:
        super().__init__("the address is not shipped to")
        self.details = dict(details)


class ShippingClient:
    """Quotes through the shipping service's internal API (``shipping:quote``). A quote
    changes nothing, so the client may retry it."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def quote(self, *, subtotal: Decimal, item_count: int, country: str, postal_code: str) -> Quote:
        """What shipping ``item_count`` items worth ``subtotal`` to the address costs."""
        body = {
            "subtotal": f"{subtotal:.2f}",
            "item_count": item_count,
            "address": {"country": country, "postal_code": postal_code},
        }
        try:
            response = self._client.post("/internal/quotes/", json=body, idempotent=True)
        except BadGateway as exc:
            # An unreachable shipping means no checkout now: 503, not 502.
            raise UpstreamUnavailable(str(exc.message), retry_after=2) from exc
        answer = response.json()
        if response.status == 400 and (refused := _address_errors(answer)):
            raise AddressNotShipped(refused)
        if response.status != 200:
            raise BadGateway(f"The shipping service answered {response.status} unexpectedly.")
        return _quote(answer)


def _address_errors(body: Any) -> dict[str, Any]:
    """What a 400 from shipping says about the address (``details.address``), if anything."""
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    address = details.get("address") if isinstance(details, dict) else None
    return dict(address) if isinstance(address, dict) else {}


def _quote(body: Any) -> Quote:
    """A quote from shipping's answer, checked as strictly as a client's request."""
    try:
        cost = Decimal(_text(body["cost"]))
        if not cost.is_finite() or not 0 <= cost < 10**8 or cost != cost.quantize(CENT):
            raise ValueError(cost)
        days = body["estimated_days"]
        if type(days) is not int or not 0 <= days <= 365:
            raise ValueError(days)
        return Quote(cost=cost, carrier=_text(body["carrier"]), estimated_days=days)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        raise BadGateway(
            "The shipping service answered with a quote that makes no sense."
        ) from None


def _text(value: Any, max_length: int = 100) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        raise ValueError(value)
    return value
