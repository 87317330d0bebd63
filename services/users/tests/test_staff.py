"""GET /api/users/ and GET and PATCH /api/users/<id>/: staff list accounts, and activate,
deactivate, promote or demote them."""

import pytest

from tests.conftest import bearer

pytestmark = pytest.mark.django_db


def test_staff_list_every_account_paginated(api, alice, staff, login):
    response = api.get("/api/users/", **bearer(login("root")["access"]))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert {u["username"] for u in body["results"]} == {"alice", "root"}


def test_listing_users_needs_a_token(api):
    response = api.get("/api/users/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_staff_page_through_accounts(api, alice, staff, make_user, login):
    make_user("carol")
    headers = bearer(login("root")["access"])

    first = api.get("/api/users/?page_size=2", **headers).json()
    second = api.get(first["next"], **headers).json()

    assert first["count"] == 3
    assert [u["username"] for u in first["results"]] == ["alice", "root"]
    assert first["next"] == "/api/users/?page=2&page_size=2"
    assert [u["username"] for u in second["results"]] == ["carol"]
    assert second["previous"] == "/api/users/?page_size=2"
    assert api.get("/api/users/?page=9", **headers).status_code == 404


def test_a_user_cannot_list_detail_or_change_accounts(api, alice, staff, login):
    headers = bearer(login("alice")["access"])

    assert api.get("/api/users/", **headers).status_code == 403
    assert api.get(f"/api/users/{staff.pk}/", **headers).status_code == 403
    response = api.patch(f"/api/users/{alice.pk}/", {"is_staff": True}, format="json", **headers)
    assert response.status_code == 403
    alice.refresh_from_db()
    assert not alice.is_staff


def test_staff_promote_and_demote(api, alice, staff, login):
    headers = bearer(login("root")["access"])

    promoted = api.patch(f"/api/users/{alice.pk}/", {"is_staff": True}, format="json", **headers)

    assert promoted.status_code == 200
    assert promoted.json()["is_staff"] is True
    alice.refresh_from_db()
    assert alice.is_staff

    demoted = api.patch(f"/api/users/{alice.pk}/", {"is_staff": False}, format="json", **headers)

    assert demoted.json()["is_staff"] is False
    alice.refresh_from_db()
    assert not alice.is_staff
    assert alice.is_active


def test_staff_see_one_account(api, alice, staff, login):
    response = api.get(f"/api/users/{alice.pk}/", **bearer(login("root")["access"]))

    assert response.status_code == 200
    assert response.json()["username"] == "alice"
    assert response.json()["is_active"] is True


def test_a_staff_token_whose_owner_was_demoted_no_longer_works_here(api, alice, staff, login):
    headers = bearer(login("root")["access"])
    staff.is_staff = False
    staff.save()

    assert api.get("/api/users/", **headers).status_code == 403


def test_unknown_account_is_404(api, staff, login):
    response = api.get("/api/users/999999/", **bearer(login("root")["access"]))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_is_active_must_be_a_boolean(api, alice, staff, login):
    response = api.patch(
        f"/api/users/{alice.pk}/",
        {"is_active": "maybe"},
        format="json",
        **bearer(login("root")["access"]),
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"is_active": ["Must be a valid boolean."]}
    alice.refresh_from_db()
    assert alice.is_active
