"""The payments admin: staff find a payment by its order's id and look at it; nobody adds,
changes or deletes one there (payments are made by events)."""

import uuid

import pytest

from payments.models import Payment
from tests.conftest import placed_event

pytestmark = pytest.mark.django_db

LIST = "/admin/payments/payment/"


@pytest.fixture
def payments(inbox, provider):
    events = [placed_event(user_id=1), placed_event(user_id=2, card="tok_chargeDeclined")]
    for event in events:
        inbox.receive(event)
    return [Payment.objects.get(order_id=event.data["order_id"]) for event in events]


def test_staff_find_a_payment_by_its_orders_id(admin_client, payments):
    paid, declined = payments

    found = admin_client.get(LIST, {"q": str(declined.order_id)})
    everything = admin_client.get(LIST)
    nothing = admin_client.get(LIST, {"q": str(uuid.uuid4())})
    garbage = admin_client.get(LIST, {"q": "not an id"})

    assert found.status_code == 200
    assert list(found.context["cl"].result_list) == [declined]
    assert set(everything.context["cl"].result_list) == {paid, declined}
    assert list(nothing.context["cl"].result_list) == []
    assert garbage.status_code == 200
    assert list(garbage.context["cl"].result_list) == []


def test_a_payment_is_shown_read_only_with_its_token_masked(admin_client, payments):
    paid, _ = payments

    page = admin_client.get(f"{LIST}{paid.pk}/change/")

    assert page.status_code == 200
    assert b"View payment" in page.content
    assert "tok_…".encode() in page.content
    assert b"tok_visa" not in page.content


def test_nobody_adds_changes_or_deletes_a_payment_in_the_admin(admin_client, payments):
    paid, _ = payments

    added = admin_client.post(f"{LIST}add/", {"order_id": str(uuid.uuid4()), "user_id": "1"})
    changed = admin_client.post(f"{LIST}{paid.pk}/change/", {"status": "refunded"})
    deleted = admin_client.post(f"{LIST}{paid.pk}/delete/", {"post": "yes"})

    assert (added.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    paid.refresh_from_db()
    assert paid.status == "succeeded"
    assert Payment.objects.count() == 2
