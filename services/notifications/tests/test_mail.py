"""Each event the service consumes mails the customer once, at the account's current
address, through a real SMTP server: what arrives, and what happens when the mail server
or the users service is down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import SentEmail
from souk_common.events.consume import dead_letter_replay
from souk_common.events.models import InboxEvent
from souk_common.testing import Dropped
from tests.conftest import order_event, registered_event

pytestmark = pytest.mark.django_db


def later():
    """A time past any backoff: every retry is due."""
    return timezone.now() + timedelta(hours=1)


def state_of(event):
    return InboxEvent.objects.get(event_id=event.id).state


def test_a_registration_mails_a_welcome_to_the_accounts_address(inbox, smtp, users_service):
    event = registered_event(user_id=7)

    state = inbox.receive(event)

    assert state == "handled"
    [mail] = smtp.mail
    assert mail.to == "user7@example.com"
    assert mail.envelope_to == ["user7@example.com"]
    assert mail.subject == "Welcome to Souk, user7"
    assert "welcome to Souk: your account is ready" in mail.text
    assert mail.message_id == f"<{event.id}@souk>"
    record = SentEmail.objects.get()
    assert (record.kind, record.status, record.recipient) == ("welcome", "sent", mail.to)
    assert record.body == mail.text.replace("\r\n", "\n")  # SMTP sends lines with CRLF


def test_a_confirmed_order_mails_its_id_each_line_and_the_total(inbox, smtp, users_service):
    event = order_event("order.confirmed", user_id=3)
    order_id = event.data["order_id"]

    inbox.receive(event)

    [mail] = smtp.mail
    assert mail.to == "user3@example.com"
    assert mail.subject == f"Your Souk order {order_id} is confirmed"
    assert f"your order {order_id} is confirmed:" in mail.text
    lines = [line.strip() for line in mail.text.splitlines()]
    assert "2 x Sencha at 9.50: 19.00" in lines
    assert "1 x Teapot & cups at 1039.00: 1039.00" in lines  # plain text: nothing escaped
    assert "Total: 1058.00" in lines
    assert str(SentEmail.objects.get().order_id) == order_id


def test_amounts_are_shown_with_two_decimals(inbox, smtp, users_service):
    item = {
        "product_id": 5,
        "name": "Tin",
        "unit_price": "4.00",
        "quantity": 3,
        "line_total": "12.00",
    }
    inbox.receive(order_event(items=[item], total="12.00"))

    lines = [line.strip() for line in smtp.mail[0].text.splitlines()]

    assert "3 x Tin at 4.00: 12.00" in lines
    assert "Total: 12.00" in lines


def test_a_cancelled_order_mails_a_cancellation_naming_the_order(inbox, smtp, users_service):
    event = order_event("order.cancelled", user_id=4)
    order_id = event.data["order_id"]

    inbox.receive(event)

    [mail] = smtp.mail
    assert mail.to == "user4@example.com"
    assert mail.subject == f"Your Souk order {order_id} is cancelled"
    assert f"your order {order_id} (1058.00) is cancelled." in mail.text
    assert SentEmail.objects.get().kind == "order_cancelled"


def test_an_event_delivered_twice_mails_once(inbox, smtp, users_service):
    event = order_event()

    first, second = inbox.receive(event), inbox.receive(event)

    assert (first, second) == ("handled", None)
    assert len(smtp.mail) == 1
    assert SentEmail.objects.count() == 1
    assert users_service.lookups == 1


def test_the_address_is_asked_of_the_users_service_when_the_mail_is_sent(
    inbox, smtp, users_service
):
    inbox.receive(order_event(user_id=8))
    users_service.without_email.add(8)  # the address changed (here: removed) since
    inbox.receive(order_event(user_id=8))

    assert [mail.to for mail in smtp.mail] == ["user8@example.com"]
    assert users_service.lookups == 2


def test_a_mail_server_that_is_down_delays_the_mail_and_loses_none(inbox, smtp, users_service):
    event = order_event()
    smtp.stop()

    state = inbox.receive(event)
    nothing_retried_before_its_time = inbox.retry_due()

    assert state == "retrying"
    assert nothing_retried_before_its_time == 0
    assert not SentEmail.objects.exists()  # rolled back with the event's record
    row = InboxEvent.objects.get(event_id=event.id)
    assert row.next_attempt_at > timezone.now()
    assert "Connection refused" in row.last_error

    smtp.start()
    retried = inbox.retry_due(now=later())
    inbox.receive(event)  # delivered again meanwhile: nothing more
    inbox.retry_due(now=later())

    assert retried == 1
    assert state_of(event) == "handled"
    assert len(smtp.mail) == 1
    assert smtp.mail[0].message_id == f"<{event.id}@souk>"
    assert SentEmail.objects.get().status == "sent"


def test_a_mail_server_down_for_every_attempt_leaves_a_dead_letter_a_replay_sends(
    inbox, smtp, users_service, settings
):
    settings.SOUK = {**settings.SOUK, "EVENTS_MAX_ATTEMPTS": 3}
    event = order_event()
    smtp.stop()

    inbox.receive(event)
    inbox.retry_due(now=later())
    inbox.retry_due(now=later())

    assert state_of(event) == "dead"
    assert not SentEmail.objects.exists()

    smtp.start()
    assert dead_letter_replay(event.id)
    inbox.retry_due(now=later())

    assert state_of(event) == "handled"
    assert len(smtp.mail) == 1


def test_a_users_service_that_is_down_delays_the_mail(inbox, smtp, users_service):
    event = registered_event(user_id=5)
    users_service.failure = Dropped()

    state = inbox.receive(event)

    assert state == "retrying"
    assert smtp.mail == []
    assert not SentEmail.objects.exists()

    users_service.failure = None
    inbox.retry_due(now=later())

    assert state_of(event) == "handled"
    assert [mail.to for mail in smtp.mail] == ["user5@example.com"]


def test_an_account_without_an_address_gets_nothing_and_is_recorded_as_skipped(
    inbox, smtp, users_service
):
    users_service.without_email.add(7)
    event = order_event(user_id=7)

    state = inbox.receive(event)

    assert state == "handled"  # nothing to retry: the account has no address
    assert smtp.mail == []
    record = SentEmail.objects.get()
    assert (record.status, record.recipient, record.sent_at) == ("no_address", "", None)
    assert record.get_status_display() == "skipped: the account has no e-mail address"


def test_an_account_that_no_longer_exists_gets_nothing_and_is_recorded_as_skipped(
    inbox, smtp, users_service
):
    users_service.missing.add(9)

    state = inbox.receive(registered_event(user_id=9))

    assert state == "handled"
    assert smtp.mail == []
    assert SentEmail.objects.get().status == "no_account"


@pytest.mark.parametrize(
    "broken",
    [
        {"total": 12.5},  # money is a decimal string
        {"total": "12.505"},  # in cents
        {"items": []},
        {"order_id": "not-an-id"},
        {"user_id": "7"},
    ],
)
def test_order_data_that_breaks_its_version_is_a_dead_letter_at_its_first_retry(
    inbox, smtp, users_service, broken
):
    event = order_event(**broken)

    inbox.receive(event)
    inbox.retry_due(now=later())

    row = InboxEvent.objects.get(event_id=event.id)
    assert (row.state, row.attempts) == ("dead", 2)
    assert "version 1" in row.last_error
    assert smtp.mail == []
