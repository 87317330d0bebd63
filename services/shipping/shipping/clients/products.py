"""The products service, as shipping sees it: the public catalogue's names and prices.

``GET /api/products/?ids=...`` is public: the active products among those ids (a retired
or unknown one is simply not listed). A quote prices its lines with what it answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from souk_common.clients import ServiceClient
from souk_common.errors import BadGateway, UpstreamUnavailable

CENT = Decimal("0.01")
#: The most ids products takes in one ``?ids=`` (and the largest page it serves).
IDS_PER_CALL = 100


@dataclass(frozen=True)
class CatalogueProduct:
    """A product on sale, as the public catalogue shows it."""

    id: int
    name: str
    price: Decimal


class ProductsClient:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def on_sale(self, ids: Iterable[int]) -> dict[int, CatalogueProduct]:
        """The products on sale among ``ids``, by id; an id missing from the answer is a
        product that does not exist or is retired.

        A products service that cannot be reached or fails raises
        :class:`~souk_common.errors.UpstreamUnavailable` (503), one too slow
        :class:`~souk_common.errors.UpstreamTimeout` (504), and one answering nonsense
        :class:`~souk_common.errors.BadGateway` (502).
        """
        wanted = sorted(set(ids))
        found: dict[int, CatalogueProduct] = {}
        for start in range(0, len(wanted), IDS_PER_CALL):
            chunk = wanted[start : start + IDS_PER_CALL]
            for product in self._page(chunk):
                if product.id not in chunk:
                    raise BadGateway("The products service answered about products not asked for.")
                found[product.id] = product
        return found

    def _page(self, ids: list[int]) -> list[CatalogueProduct]:
        params = {"ids": ",".join(map(str, ids)), "page_size": str(IDS_PER_CALL)}
        try:
            response = self._client.get("/api/products/", params=params)
        except BadGateway as exc:
            # Unreachable or failing products means no quote now: 503, try again shortly.
            raise UpstreamUnavailable(str(exc.message), retry_after=2) from exc
        if response.status != 200:
            raise BadGateway(f"The products service answered {response.status} unexpectedly.")
        return _parse_page(response.json())


def _parse_page(body: Any) -> list[CatalogueProduct]:
    """The products of one page of the catalogue, checked as strictly as a client's request:
    an answer that is not what the protocol says is a 502, never a 500 or a wrong price."""
    try:
        if body["next"] is not None:
            raise ValueError("more than one page")
        return [
            CatalogueProduct(
                id=_whole(item["id"]), name=_text(item["name"]), price=_money(item["price"])
            )
            for item in body["results"]
            if item.get("is_active", True) is True
        ]
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
        raise BadGateway(
            "The products service answered with a catalogue that makes no sense."
        ) from None


def _whole(value: Any) -> int:
    if type(value) is not int or value < 1:
        raise ValueError(value)
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        raise ValueError(value)
    return value


def _money(value: Any) -> Decimal:
    """A price as products writes it: a decimal string with at most two places."""
    if not isinstance(value, str):
        raise ValueError(value)
    amount = Decimal(value)
    if not amount.is_finite() or not 0 <= amount < 10**8 or amount != amount.quantize(CENT):
        raise ValueError(value)
    return amount
