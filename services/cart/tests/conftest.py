"""Fixtures of the cart service's tests: the store carts live in (each test of the API runs
on both), the products catalogue faked, and clients: guests, users, the orders service."""

import os
import uuid

import pytest
import redis
from rest_framework.test import APIClient

from cart import clients, stores
from tests.fakes import FakeCatalogue

# Tests of the Redis store use this database (not 0) and a key prefix of their own, and
# delete their keys afterwards.
REDIS_URL = os.environ.get("CART_TEST_REDIS_URL") or "redis://127.0.0.1:6379/13"
STORES = ["database", "redis"]


def redis_error(url: str) -> str | None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return None
    except redis.RedisError as exc:
        return str(exc) or exc.__class__.__name__


@pytest.fixture(autouse=True)
def _fresh_clients_and_store():
    """Each test gets a new products client (a closed breaker) and store."""
    clients.reset()
    stores.reset()
    yield
    clients.reset()
    stores.reset()


def use_store(kind, settings):
    """Carts in ``kind`` ("database" or "redis") from now on; returns a cleanup."""
    if kind == "database":
        settings.CART_REDIS_URL = ""
        return lambda: None
    error = redis_error(REDIS_URL)
    if error is not None:
        message = f"Redis at {REDIS_URL} does not answer: {error}"
        if os.environ.get("REQUIRE_REDIS", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"REQUIRE_REDIS=1 but {message}")
        pytest.skip(message)
    prefix = f"test-cart-{uuid.uuid4().hex}:"
    settings.CART_REDIS_URL = REDIS_URL
    settings.CART_REDIS_KEY_PREFIX = prefix

    def cleanup():
        connection = redis.Redis.from_url(REDIS_URL)
        keys = list(connection.scan_iter(match=f"{prefix}*"))
        if keys:
            connection.delete(*keys)

    return cleanup


@pytest.fixture(params=STORES)
def store(request, settings):
    """The store carts live in, each in turn: the database (embedded) and Redis."""
    cleanup = use_store(request.param, settings)
    yield request.param
    cleanup()


@pytest.fixture
def catalogue(fake_service, settings):
    """The products catalogue, faked; every other HTTP call fails the test."""
    fake = FakeCatalogue()
    fake.add(1, "Sencha", "9.50")
    fake.add(2, "Teapot", "39.00")
    fake.add(3, "Retired tray", "27.50", is_active=False)
    server = fake_service()
    fake.install(server)
    settings.PRODUCTS_URL = server.url
    clients.reset()
    return fake


def signed_in(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def alice(token_factory):
    return signed_in(token_factory.access(user_id=1, username="alice"))


@pytest.fixture
def bob(token_factory):
    return signed_in(token_factory.access(user_id=2, username="bob"))


@pytest.fixture
def orders(token_factory):
    """The orders service, holding cart:checkout."""
    return signed_in(token_factory.service(client_id="orders", scopes=["cart:checkout"]))


def new_guest_cart():
    """A guest's cart: its id, and a client that names it in X-Cart-ID."""
    made = APIClient().post("/api/cart/")
    assert made.status_code == 201, made.content
    cart_id = made.json()["id"]
    client = APIClient()
    client.credentials(HTTP_X_CART_ID=cart_id)
    return cart_id, client


def put(client, product_id, quantity):
    return client.put(f"/api/cart/items/{product_id}/", {"quantity": quantity}, format="json")
