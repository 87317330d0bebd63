"""The users admin: service clients and accounts change through the services the API uses."""

import pytest
from django.utils import timezone

from accounts.models import ServiceClient
from souk_common.events.models import OutboxEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SECRET = "a-long-enough-secret"
ADD_CLIENT = "/admin/accounts/serviceclient/add/"


def test_create_a_service_client_in_the_admin(admin_client):
    response = admin_client.post(
        ADD_CLIENT,
        {
            "client_id": "reports",
            "is_active": "on",
            "scope_choices": ["users:read"],
            "new_secret": SECRET,
        },
    )

    assert response.status_code == 302
    client = ServiceClient.objects.get(client_id="reports")
    assert client.scope_list == ["users:read"]
    assert client.is_active
    assert client.check_secret(SECRET)
    assert SECRET not in client.secret_hash


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"scope_choices": ["root"]}, "Select a valid choice. root is not one of the available"),
        ({"new_secret": "fifteen-chars.."}, "Use at least 16 characters."),
        ({"new_secret": ""}, "A new service client needs a secret."),
    ],
)
def test_the_admin_refuses_what_the_service_refuses(admin_client, fields, refusal):
    response = admin_client.post(
        ADD_CLIENT,
        {"client_id": "reports", "scope_choices": ["users:read"], "new_secret": SECRET, **fields},
    )

    assert response.status_code == 200  # the form again, saying why
    assert refusal in response.content.decode()
    assert not ServiceClient.objects.exists()


def test_edit_a_service_client_keeping_its_secret(admin_client):
    client = ServiceClient(client_id="reports", scopes="users:read")
    client.set_secret(SECRET)
    client.save()

    response = admin_client.post(
        f"/admin/accounts/serviceclient/{client.pk}/change/",
        {"scope_choices": ["users:read", "stock:reserve"], "new_secret": ""},
    )

    assert response.status_code == 302
    client.refresh_from_db()
    assert client.scope_list == ["stock:reserve", "users:read"]
    assert not client.is_active
    assert client.check_secret(SECRET)


def change_account(admin_client, user, **changes):
    """Post the admin's change form of ``user`` with these changes (a flag set to False is
    an unticked box, which the browser does not send)."""
    fields = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        **changes,
    }
    joined = timezone.localtime(user.date_joined)
    body = {name: value for name, value in fields.items() if value is not False}
    body.update(date_joined_0=joined.date().isoformat(), date_joined_1=joined.time().isoformat())
    return admin_client.post(f"/admin/accounts/user/{user.pk}/change/", body)


def test_a_deactivation_in_the_admin_revokes_the_accounts_refresh_tokens(
    admin_client, api, alice, login
):
    pair = login("alice")

    response = change_account(admin_client, alice, is_active=False, first_name="Alice")

    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.is_active, alice.first_name) == (False, "Alice")
    refreshed = api.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert refreshed.json()["error"]["message"] == "Invalid refresh token: Token is blacklisted"


def test_a_promotion_in_the_admin_keeps_the_accounts_sessions(admin_client, api, alice, login):
    pair = login("alice")

    response = change_account(admin_client, alice, is_staff=True)

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.is_staff
    refreshed = api.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 200


def test_a_new_address_set_in_the_admin_is_unverified_and_gets_a_link(admin_client, alice):
    alice.email_verified = True
    alice.save()

    response = change_account(admin_client, alice, email="moved@example.com")

    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.email, alice.email_verified) == ("moved@example.com", False)
    [event] = OutboxEvent.objects.filter(type="user.email_changed")
    assert event.envelope["data"]["user_id"] == alice.pk


@pytest.mark.parametrize("page", ["/admin/accounts/user/", "/admin/accounts/serviceclient/"])
def test_admin_lists_load(admin_client, page):
    assert admin_client.get(page).status_code == 200


@pytest.mark.postgres  # PostgreSQL's UPPER() matched the dotless i to "I"
def test_a_look_alike_username_does_not_sign_in_to_the_admin(client, make_user):
    make_user("limit", is_staff=True, is_superuser=True)

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "l\N{LATIN SMALL LETTER DOTLESS I}mit", "password": PASSWORD},
    )

    assert response.status_code == 200  # the login page again, with its error
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
