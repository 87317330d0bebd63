"""The users admin: service clients are created with a hashed secret and known scopes."""

import pytest

from accounts.models import ServiceClient
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_create_a_service_client_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/accounts/serviceclient/add/",
        {
            "client_id": "reports",
            "is_active": "on",
            "scope_choices": ["users:read"],
            "new_secret": "a-long-enough-secret",
        },
    )

    assert response.status_code == 302
    client = ServiceClient.objects.get(client_id="reports")
    assert client.scope_list == ["users:read"]
    assert client.check_secret("a-long-enough-secret")
    assert "a-long-enough-secret" not in client.secret_hash


def test_unknown_scopes_cannot_be_granted_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/accounts/serviceclient/add/",
        {"client_id": "x", "scope_choices": ["root"], "new_secret": "a-long-enough-secret"},
    )

    assert response.status_code == 200
    assert not ServiceClient.objects.exists()


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
