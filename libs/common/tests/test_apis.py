"""One URL, several operations: each request is served, checked and answered by its own."""

from django.test import Client


def test_each_method_is_served_by_its_own_operation(token_factory):
    token = f"Bearer {token_factory.access()}"

    listed = Client().get("/shelves/")
    added = Client().post("/shelves/", HTTP_AUTHORIZATION=token)

    assert (listed.status_code, listed.json()) == (200, {"shelves": 3})
    assert (added.status_code, added.json()) == (201, {"added": True})


def test_each_method_is_checked_with_its_own_operations_permissions():
    assert Client().get("/shelves/").status_code == 200  # anyone lists
    assert Client().post("/shelves/").status_code == 401  # only users add


def test_a_method_the_url_lacks_passes_every_operations_permissions_first(token_factory):
    anonymous = Client().delete("/shelves/")
    signed_in = Client().delete("/shelves/", HTTP_AUTHORIZATION=f"Bearer {token_factory.access()}")

    assert anonymous.status_code == 401
    assert signed_in.status_code == 405
    assert signed_in["Allow"] == "GET, POST, HEAD, OPTIONS"
