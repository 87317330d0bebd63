"""Typed clients for the services orders calls, one pooled client per upstream and process."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings

from orders.clients.cart import CartClient
from orders.clients.products import ProductsClient
from orders.clients.shipping import ShippingClient
from orders.clients.users import UsersClient
from souk_common import accounts
from souk_common.breaker import CircuitBreaker
from souk_common.clients import ServiceClient


def _service_client(name: str, base_url: str) -> ServiceClient:
    options: dict[str, Any] = settings.ORDERS_UPSTREAMS
    return ServiceClient(
        name,
        base_url,
        connect_timeout=options["CONNECT_TIMEOUT"],
        read_timeout=options["READ_TIMEOUT"],
        retries=options["RETRIES"],
        breaker=CircuitBreaker(
            failure_threshold=options["BREAKER_FAILURES"],
            reset_timeout=options["BREAKER_RESET_SECONDS"],
        ),
        auth=accounts.service_token_provider(),  # this service's own, shared in the process
    )


@functools.cache
def products() -> ProductsClient:
    return ProductsClient(_service_client("products", settings.PRODUCTS_URL))


@functools.cache
def users() -> UsersClient:
    return UsersClient(_service_client("users", settings.USERS_URL))


@functools.cache
def cart() -> CartClient:
    return CartClient(_service_client("cart", settings.CART_URL))


@functools.cache
def shipping() -> ShippingClient:
    return ShippingClient(_service_client("shipping", settings.SHIPPING_URL))


def reset() -> None:
    """Forget the clients (tests change their settings)."""
    products.cache_clear()
    users.cache_clear()
    cart.cache_clear()
    shipping.cache_clear()
    accounts.reset()
