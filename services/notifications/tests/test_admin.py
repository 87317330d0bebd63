"""Staff see every e-mail events gave, and those skipped and why, in the admin; read-only."""

import pytest

from notifications.models import SentEmail
from tests.conftest import order_event, registered_event

pytestmark = pytest.mark.django_db

LIST = "/admin/notifications/sentemail/"


@pytest.fixture
def mailed(inbox, smtp, users_service):
    """Three events handled: an order confirmed for user 3, a welcome for user 4, and an
    order confirmed for user 5, who has no address."""
    users_service.without_email.add(5)
    events = [order_event(user_id=3), registered_event(user_id=4), order_event(user_id=5)]
    for event in events:
        inbox.receive(event)
    return events


def test_staff_see_each_mail_with_its_recipient_kind_subject_and_order(admin_client, mailed):
    page = admin_client.get(LIST).content.decode()

    order_id = mailed[0].data["order_id"]
    assert "user3@example.com" in page
    assert f"Your Souk order {order_id} is confirmed" in page
    assert order_id in page
    assert "welcome (user.registered)" in page
    assert "Welcome to Souk, user4" in page
    assert "skipped: the account has no e-mail address" in page


def test_staff_find_mail_by_order_id_and_by_recipient(admin_client, mailed):
    order_id = mailed[0].data["order_id"]

    by_order = admin_client.get(LIST, {"q": order_id}).content.decode()
    by_recipient = admin_client.get(LIST, {"q": "user4@"}).content.decode()
    by_nonsense = admin_client.get(LIST, {"q": "not-an-order-id"})

    assert "user3@example.com" in by_order
    assert "user4@example.com" not in by_order
    assert "user4@example.com" in by_recipient
    assert "user3@example.com" not in by_recipient
    assert by_nonsense.status_code == 200


def test_a_mail_is_shown_whole_and_cannot_be_added_changed_or_deleted(admin_client, mailed):
    record = SentEmail.objects.get(recipient="user3@example.com")

    page = admin_client.get(f"{LIST}{record.pk}/change/")
    posted = admin_client.post(f"{LIST}{record.pk}/change/", {"recipient": "x@example.com"})

    assert page.status_code == 200
    assert "View e-mail" in page.content.decode()
    assert "2 x Sencha at 9.50: 19.00" in page.content.decode()
    assert posted.status_code == 403
    assert admin_client.get(f"{LIST}add/").status_code == 403
    assert admin_client.get(f"{LIST}{record.pk}/delete/").status_code == 403
    assert SentEmail.objects.get(pk=record.pk).recipient == "user3@example.com"
