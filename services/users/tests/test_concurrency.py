"""One refresh token, used many times at once, rotates exactly once."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from souk_common.testing import run_concurrently
from tests.conftest import PASSWORD


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_succeed_once():
    User.objects.create_user(username="alice", email="alice@example.com", password=PASSWORD)
    pair = (
        APIClient()
        .post("/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
        .json()
    )

    def refresh(_):
        return (
            APIClient()
            .post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
            .status_code
        )

    statuses = run_concurrently(refresh, 10)

    assert sorted(statuses) == [200] + [401] * 9
