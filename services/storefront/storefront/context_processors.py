"""What every page's header shows: who is signed in, how much is in the cart."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from storefront.shopper import Shopper


def shopper(request: HttpRequest) -> dict[str, Any]:
    current = Shopper(request.session)
    return {"shopper": current, "cart_count": current.cart_count}
