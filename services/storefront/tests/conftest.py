"""Fixtures of the storefront's tests: a fake gateway at the HTTP boundary of the real
client (souk_common.testing.FakeService, a local HTTP server), and a signed-in shopper."""

from __future__ import annotations

import pytest

from storefront.clients import gateway as gateway_client
from tests.answers import PASSWORD, cart


@pytest.fixture
def api(fake_service, settings):
    """The gateway, faked: register its answers with ``api.add(...)``; ``api.calls`` has
    what the storefront asked."""
    fake = fake_service()
    settings.STOREFRONT = {
        **settings.STOREFRONT,
        "GATEWAY_URL": fake.url,
        "RETRIES": 0,
        "CHECKOUT_WAIT_SECONDS": 2.0,
    }
    gateway_client.reset()
    yield fake
    gateway_client.reset()


@pytest.fixture
def tokens(token_factory):
    """What the users service answers a sign-in with (a genuine RS256 access token)."""
    return {
        "access": token_factory.access(user_id=7, username="ada"),
        "refresh": "refresh-token-of-ada-0001",
    }


@pytest.fixture
def signed_in(client, api, tokens):
    """The test client, signed in as ada (who had no guest cart)."""
    api.add("POST", "/api/auth/token/", json=tokens)
    api.add("GET", "/api/cart/", json=cart("user:7", []))
    response = client.post("/signin/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    return client
