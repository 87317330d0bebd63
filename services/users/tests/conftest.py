"""Fixtures of the users service's tests: accounts, a service client, an API client, signing in."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User

PASSWORD = "correct-horse-battery-staple"
SERVICE_SECRET = "a-long-enough-service-secret"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()


@pytest.fixture
def rates(settings):
    """Set some throttle rates for one test."""

    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **rates,
            },
        }

    return set_rates


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def make_user(db):
    def make(username="alice", email=None, password=PASSWORD, **extra):
        return User.objects.create_user(
            username=username, email=email or f"{username}@example.com", password=password, **extra
        )

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def staff(make_user):
    return make_user("root", is_staff=True)


@pytest.fixture
def orders_client(db):
    """The service client orders uses, with both scopes."""
    return services.service_client_ensure(
        client_id="orders", scopes=["users:read", "stock:reserve"], secret=SERVICE_SECRET
    )


@pytest.fixture
def login(api):
    """Sign in through the API and return the token pair."""

    def sign_in(username, password=PASSWORD):
        response = api.post(
            "/api/auth/token/", {"username": username, "password": password}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return sign_in


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
