"""The products service, as the cart sees it: the current name and price of products on
sale, read from its public catalogue (``GET /api/products/?ids=...``), which leaves out
products that are retired (and, of course, those that do not exist)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from souk_common.clients import ServiceClient
from souk_common.errors import BadGateway, UpstreamUnavailable

CENT = Decimal("0.01")
#: The most ids products answers about in one page.
MAX_IDS = 100


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    price: Decimal


@dataclass(frozen=True)
class Catalogue:
    """What products said about the ids ``asked``: those on sale, by id. An id asked and
    not on sale does not exist or is retired."""

    asked: frozenset[int] = frozenset()
    on_sale: Mapping[int, Product] = field(default_factory=dict)

    def covers(self, product_ids: Iterable[int]) -> bool:
        """Whether it says something about each of these ids."""
        return self.asked.issuperset(product_ids)


class ProductsClient:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def catalogue(self, product_ids: Iterable[int]) -> Catalogue:
        """The products among ``product_ids`` that are on sale, in one call (none for none)."""
        asked = frozenset(product_ids)
        if not asked:
            return Catalogue()
        if len(asked) > MAX_IDS:
            raise ValueError(f"at most {MAX_IDS} products in one call")
        params = {"ids": ",".join(map(str, sorted(asked))), "page_size": str(MAX_IDS)}
        try:
            response = self._client.get("/api/products/", params=params)
        except BadGateway as exc:
            # Unreachable products means no cart can be priced now: 503, not 502.
            raise UpstreamUnavailable(str(exc.message), retry_after=2) from exc
        if response.status != 200:
            raise BadGateway(f"The products service answered {response.status} unexpectedly.")
        products = _parse_products(response.json())
        return Catalogue(
            asked=asked,
            on_sale={p.id: p for p in products if p.id in asked},
        )


def _parse_products(body: Any) -> list[Product]:
    """The page of products, checked as strictly as a client's request: an answer that is
    not what the catalogue says it is becomes a 502, never a 500 or a wrong price."""
    try:
        return [
            Product(id=_whole(item["id"]), name=_text(item["name"]), price=_money(item["price"]))
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


def _text(value: Any, max_length: int = 200) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        raise ValueError(value)
    return value


def _money(value: Any) -> Decimal:
    amount = Decimal(_text(value, max_length=32))
    if not amount.is_finite() or not 0 <= amount < 10**8 or amount != amount.quantize(CENT):
        raise ValueError(value)
    return amount
