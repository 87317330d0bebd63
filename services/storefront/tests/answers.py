"""What the fake gateway answers in the storefront's tests: the API's shapes (contract
sections 4-9), built small."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

PASSWORD = "Very-secret-99"


def product(
    product_id: int, name: str, price: str = "9.50", stock: int = 40, category: str = "tea"
) -> dict[str, Any]:
    return {
        "id": product_id,
        "sku": f"SKU-{product_id}",
        "name": name,
        "description": f"{name}, from the tests.",
        "price": price,
        "stock": stock,
        "category": category,
        "is_active": True,
        "created_at": "2026-11-30T10:00:00Z",
        "updated_at": "2026-11-30T10:00:00Z",
    }


def page(results: list[Any], count: int | None = None, next: str | None = None) -> dict[str, Any]:
    return {
        "count": len(results) if count is None else count,
        "next": next,
        "previous": None,
        "results": results,
    }


def cart(cart_id: str, lines: list[tuple[int, str, str, int]]) -> dict[str, Any]:
    """A cart answer: lines of (product id, name, unit price, quantity)."""
    items = [
        {
            "product_id": product_id,
            "name": name,
            "unit_price": price,
            "quantity": quantity,
            "line_total": str(Decimal(price) * quantity),
            "available": True,
        }
        for product_id, name, price, quantity in lines
    ]
    subtotal = sum((Decimal(item["line_total"]) for item in items), Decimal("0.00"))
    return {
        "id": cart_id,
        "items": items,
        "subtotal": str(subtotal),
        "item_count": sum(item["quantity"] for item in items),
        "expires_at": "2026-11-30T13:00:00Z",
    }


ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Rue de la Paix",
    "line2": "",
    "city": "Paris",
    "postal_code": "75002",
    "country": "FR",
}


def order(order_id: str, status: str = "awaiting_payment", **more: Any) -> dict[str, Any]:
    return {
        "id": order_id,
        "user_id": 7,
        "status": status,
        "items": [
            {
                "product_id": 1,
                "name": "Sencha green tea",
                "unit_price": "9.50",
                "quantity": 2,
                "line_total": "19.00",
            }
        ],
        "subtotal": "19.00",
        "shipping_cost": "7.95",
        "total": "26.95",
        "shipping_address": ADDRESS,
        "payment": None,
        "shipment": None,
        "created_at": "2026-11-30T10:00:00Z",
        "updated_at": "2026-11-30T10:00:00Z",
        **more,
    }


def error(code: str, message: str, details: dict[str, Any] | None = None) -> str:
    return json.dumps(
        {"error": {"code": code, "message": message, "details": details or {}, "request_id": "r"}}
    )


ORDER_ID = "3d1b7664-02b3-4161-8e21-3f32fd57a6f2"
COUNTRIES = page(
    [
        {"country": "FR", "name": "France", "carrier": "Colissimo", "base_cost": "7.95",
         "per_item_cost": "0.75", "free_over": "100.00", "estimated_days": 4},
    ]
)  # fmt: skip


def calls(api: Any, method: str, path: str | re.Pattern[str]) -> list[Any]:
    """What the storefront sent to ``method path``."""
    return [
        call
        for call in api.calls
        if call.method == method
        and (path.fullmatch(call.path) if isinstance(path, re.Pattern) else call.path == path)
    ]


def remember(client: Any, **values: Any) -> None:
    """Put ``values`` in the test client's session (a signed cookie: saved, sent again)."""
    session = client.session
    session.update(values)
    session.save()
    client.cookies["souk_session"] = session.session_key
