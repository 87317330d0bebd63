"""Typed clients for the services orders calls, one pooled client per upstream and process."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings

from orders.clients.products import ProductsClient
from orders.clients.users import UsersClient
from souk_common.breaker import CircuitBreaker
from souk_common.clients import ServiceClient, ServiceTokenProvider


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
        auth=_token_provider(),
    )


@functools.cache
def _token_provider() -> ServiceTokenProvider:
    """This service's own token, shared by every client of the process."""
    return ServiceTokenProvider(
        ServiceClient("users-auth", settings.USERS_URL, retries=2),
        client_id=settings.SERVICE_CLIENT_ID,
        client_secret=settings.SERVICE_CLIENT_SECRET,
    )


@functools.cache
def products() -> ProductsClient:
    return ProductsClient(_service_client("products", settings.PRODUCTS_URL))


@functools.cache
def users() -> UsersClient:
    return UsersClient(_service_client("users", settings.USERS_URL))


def reset() -> None:
    """Forget the clients (tests change their settings)."""
    products.cache_clear()
    users.cache_clear()
    _token_provider.cache_clear()
