"""Fixtures of the cart service's tests: clients signed in as users, and one not."""

import pytest
from rest_framework.test import APIClient


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
