"""Typed clients for the services the cart calls, one pooled client per upstream and process."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings

from cart.clients.products import ProductsClient
from souk_common.breaker import CircuitBreaker
from souk_common.clients import ServiceClient


@functools.cache
def products() -> ProductsClient:
    options: dict[str, Any] = settings.CART_UPSTREAMS
    # Products' public catalogue: no token (the cart has no identity of its own).
    return ProductsClient(
        ServiceClient(
            "products",
            settings.PRODUCTS_URL,
            connect_timeout=options["CONNECT_TIMEOUT"],
            read_timeout=options["READ_TIMEOUT"],
            retries=options["RETRIES"],
            breaker=CircuitBreaker(
                failure_threshold=options["BREAKER_FAILURES"],
                reset_timeout=options["BREAKER_RESET_SECONDS"],
            ),
        )
    )


def reset() -> None:
    """Forget the clients (tests change their settings)."""
    products.cache_clear()
