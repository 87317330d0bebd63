"""The products service's public catalogue, faked at the HTTP boundary (a real local
server, souk_common.testing.FakeService), answering ``GET /api/products/`` as products
does for an anonymous caller: ``ids`` filters, retired products are left out, a page of
``{count, next, previous, results}``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from souk_common.testing import FakeRequest, FakeService


@dataclass
class FakeProduct:
    id: int
    name: str
    price: Decimal
    is_active: bool = True

    def answer(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sku": f"SKU-{self.id}",
            "name": self.name,
            "description": "",
            "price": f"{self.price:.2f}",
            "stock": 10,
            "category": "tea",
            "is_active": self.is_active,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }


@dataclass
class FakeCatalogue:
    products: dict[int, FakeProduct] = field(default_factory=dict)
    # The ids each call asked about, in order.
    asked: list[list[int]] = field(default_factory=list)
    # Raised (souk_common.testing.Dropped, Hung) or answered (a status) instead, if set.
    failure: BaseException | int | None = None

    def add(self, product_id: int, name: str, price: str, *, is_active: bool = True) -> None:
        self.products[product_id] = FakeProduct(product_id, name, Decimal(price), is_active)

    def retire(self, product_id: int) -> None:
        self.products[product_id].is_active = False

    def set_price(self, product_id: int, price: str) -> None:
        self.products[product_id].price = Decimal(price)

    @property
    def calls(self) -> int:
        return len(self.asked)

    def page(self, request: FakeRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        ids = [int(part) for part in query.get("ids", [""])[0].split(",") if part]
        self.asked.append(ids)
        if isinstance(self.failure, BaseException):
            raise self.failure
        if isinstance(self.failure, int):
            return self.failure, {}, json.dumps({"error": {"code": "internal_error"}})
        page_size = min(int(query.get("page_size", ["20"])[0]), 100)
        found = [
            product.answer()
            for product_id, product in sorted(self.products.items())
            if product.is_active and (not ids or product_id in ids)
        ]
        body = {"count": len(found), "next": None, "previous": None, "results": found[:page_size]}
        return 200, {}, json.dumps(body)

    def install(self, server: FakeService) -> None:
        server.add_callback("GET", "/api/products/", self.page)
