"""GET /internal/users/<id>/: other services read an account's status, with ``users:read``;
never its e-mail address. GET /internal/users/<id>/contact/: the service that mails the
customer reads the account's name and address, with ``users:contact``."""

import pytest

from accounts import services
from tests.conftest import SERVICE_SECRET, bearer

pytestmark = pytest.mark.django_db


def service_token(api, client_id):
    response = api.post(
        "/internal/auth/token/",
        {"client_id": client_id, "client_secret": SERVICE_SECRET},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()["access"]


@pytest.fixture
def orders_token(api, orders_client):
    return service_token(api, "orders")


@pytest.fixture
def notifications_token(api, db):
    """The token of the service that mails the customer: users:contact, not users:read."""
    services.service_client_ensure(
        client_id="notifications", scopes=["users:contact"], secret=SERVICE_SECRET
    )
    return service_token(api, "notifications")


def test_internal_user_read_answers_the_accounts_state_and_no_email_address(
    api, alice, orders_token
):
    response = api.get(f"/internal/users/{alice.pk}/", **bearer(orders_token))

    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "is_active": True,
        "is_staff": False,
    }
    assert "alice@example.com" not in response.content.decode()


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


def test_contact_read_with_the_scope_answers_the_name_and_address(api, alice, notifications_token):
    response = api.get(f"/internal/users/{alice.pk}/contact/", **bearer(notifications_token))

    assert response.status_code == 200
    assert response.json() == {"id": alice.pk, "username": "alice", "email": "alice@example.com"}


def test_contact_read_gives_the_current_email_address(api, alice, login, notifications_token):
    changed = api.patch(
        "/api/users/me/",
        {"email": "alice@new.example"},
        format="json",
        **bearer(login("alice")["access"]),
    )
    assert changed.status_code == 200

    response = api.get(f"/internal/users/{alice.pk}/contact/", **bearer(notifications_token))

    assert response.json()["email"] == "alice@new.example"


def test_the_contact_of_an_unknown_account_is_404(api, notifications_token):
    response = api.get("/internal/users/999999/contact/", **bearer(notifications_token))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_contact_read_with_users_read_alone_is_403(api, alice, orders_token):
    response = api.get(f"/internal/users/{alice.pk}/contact/", **bearer(orders_token))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "alice@example.com" not in response.content.decode()


def test_a_user_token_cannot_read_contacts(api, alice, staff, login):
    for username in ("alice", "root"):
        token = login(username)["access"]

        response = api.get(f"/internal/users/{alice.pk}/contact/", **bearer(token))

        assert response.status_code == 403


def test_contact_read_without_a_token_is_401(api, alice):
    response = api.get(f"/internal/users/{alice.pk}/contact/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
