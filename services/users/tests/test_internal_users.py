"""GET /internal/users/<id>/: other services read an account's status, and its current
e-mail address, with ``users:read``."""

import pytest

from tests.conftest import SERVICE_SECRET, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders_token(api, orders_client):
    response = api.post(
        "/internal/auth/token/",
        {"client_id": "orders", "client_secret": SERVICE_SECRET},
        format="json",
    )
    return response.json()["access"]


def test_internal_user_read_with_the_scope(api, alice, orders_token):
    response = api.get(f"/internal/users/{alice.pk}/", **bearer(orders_token))

    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@example.com",
        "is_active": True,
        "is_staff": False,
    }


def test_internal_user_read_gives_the_current_email_address(api, alice, login, orders_token):
    changed = api.patch(
        "/api/users/me/",
        {"email": "alice@new.example"},
        format="json",
        **bearer(login("alice")["access"]),
    )
    assert changed.status_code == 200

    response = api.get(f"/internal/users/{alice.pk}/", **bearer(orders_token))

    assert response.json()["email"] == "alice@new.example"


def test_internal_user_read_shows_deactivation(api, alice, orders_token):
    alice.is_active = False
    alice.save()

    response = api.get(f"/internal/users/{alice.pk}/", **bearer(orders_token))

    assert response.json()["is_active"] is False


def test_an_unknown_account_is_404(api, orders_token):
    response = api.get("/internal/users/999999/", **bearer(orders_token))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_internal_user_read_without_the_scope_is_403(api, alice, token_factory):
    token = token_factory.service(client_id="gateway", scopes=["stock:reserve"])

    assert api.get(f"/internal/users/{alice.pk}/", **bearer(token)).status_code == 403


def test_a_user_token_cannot_read_internal_users(api, alice, staff, login):
    token = login("root")["access"]

    assert api.get(f"/internal/users/{alice.pk}/", **bearer(token)).status_code == 403


def test_internal_user_read_without_a_token_is_401(api, alice):
    assert api.get(f"/internal/users/{alice.pk}/").status_code == 401
