"""The example's API and admin: a user makes and reads their own examples, another user's
are not found, a name is used once per user; staff add examples in the admin."""

import pytest

from cart.models import Example

pytestmark = pytest.mark.django_db

EXAMPLES = "/api/cart/examples/"


def test_a_user_makes_examples_and_lists_their_own_newest_first(alice, bob):
    first = alice.post(EXAMPLES, {"name": "First"}, format="json")
    second = alice.post(EXAMPLES, {"name": "Second"}, format="json")
    bob.post(EXAMPLES, {"name": "Bob's"}, format="json")

    listed = alice.get(EXAMPLES)

    assert first.status_code == 201
    assert first.json()["name"] == "First"
    assert set(first.json()) == {"id", "name", "created_at"}
    assert listed.status_code == 200
    assert listed.json()["count"] == 2
    assert listed.json()["results"] == [second.json(), first.json()]


def test_an_example_is_read_by_its_owner_only(alice, bob):
    made = alice.post(EXAMPLES, {"name": "Mine"}, format="json").json()

    mine = alice.get(f"{EXAMPLES}{made['id']}/")
    theirs = bob.get(f"{EXAMPLES}{made['id']}/")

    assert mine.json() == made
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "not_found"


def test_a_name_used_twice_is_refused_and_nothing_is_made(alice, bob):
    alice.post(EXAMPLES, {"name": "Twice"}, format="json")

    again = alice.post(EXAMPLES, {"name": "Twice"}, format="json")
    elsewhere = bob.post(EXAMPLES, {"name": "Twice"}, format="json")

    assert again.status_code == 400
    assert again.json()["error"]["code"] == "validation_error"
    assert list(again.json()["error"]["details"]) == ["name"]
    assert elsewhere.status_code == 201
    assert sorted(Example.objects.values_list("user_id", "name")) == [(1, "Twice"), (2, "Twice")]


def test_a_caller_must_be_signed_in(anonymous):
    response = anonymous.get(EXAMPLES)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_staff_add_an_example_in_the_admin_and_see_it_read_only(admin_client):
    form = {"user_id": "7", "name": "Staff's"}

    added = admin_client.post("/admin/cart/example/add/", form)
    example = Example.objects.get()
    page = admin_client.get(f"/admin/cart/example/{example.pk}/change/")

    assert added.status_code == 302
    assert (example.user_id, example.name) == (7, "Staff's")
    assert page.status_code == 200
    assert b"View example" in page.content
