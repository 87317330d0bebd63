"""GET and PATCH /api/users/me/: your own account; privileges are not yours to set."""

from datetime import datetime

import pytest

from accounts.models import User
from tests.conftest import bearer

pytestmark = pytest.mark.django_db


def test_me_shows_the_signed_in_user(api, alice, login):
    response = api.get("/api/users/me/", **bearer(login("alice")["access"]))

    assert response.status_code == 200
    body = response.json()
    assert datetime.fromisoformat(body.pop("date_joined")) == alice.date_joined
    assert body == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@example.com",
        "first_name": "",
        "last_name": "",
        "is_staff": False,
        "email_verified": False,
    }


def test_me_needs_a_token(api):
    response = api.get("/api/users/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_patch_me_changes_email_and_names(api, alice, login):
    response = api.patch(
        "/api/users/me/",
        {"email": "new@example.com", "first_name": "Alice", "last_name": "Liddell"},
        format="json",
        **bearer(login("alice")["access"]),
    )

    assert response.status_code == 200
    alice.refresh_from_db()
    assert (alice.email, alice.first_name, alice.last_name) == (
        "new@example.com",
        "Alice",
        "Liddell",
    )


def test_privilege_fields_in_patch_me_are_ignored(api, alice, login):
    response = api.patch(
        "/api/users/me/",
        {"is_staff": True, "is_superuser": True, "is_active": False, "username": "admin"},
        format="json",
        **bearer(login("alice")["access"]),
    )

    assert response.status_code == 200
    alice.refresh_from_db()
    assert (alice.is_staff, alice.is_superuser, alice.is_active, alice.username) == (
        False,
        False,
        True,
        "alice",
    )


def test_email_taken_by_someone_else_in_any_case_is_refused(api, alice, make_user, login):
    make_user("bob", email="bob@example.com")

    response = api.patch(
        "/api/users/me/",
        {"email": "BOB@example.com"},
        format="json",
        **bearer(login("alice")["access"]),
    )

    assert response.status_code == 400
    assert "email" in response.json()["error"]["details"]
    assert User.objects.get(pk=alice.pk).email == "alice@example.com"


def test_a_service_token_has_no_me(api, token_factory):
    response = api.get("/api/users/me/", **bearer(token_factory.service(scopes=["users:read"])))

    assert response.status_code == 403
