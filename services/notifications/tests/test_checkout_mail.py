"""The mails of a checkout order's life, each once per event at the account's current
address, through a real SMTP server: paid (the confirmation), payment failed, shipped,
and cancelled (and refunded)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import SentEmail
from souk_common.events.envelope import Event
from souk_common.events.models import InboxEvent
from tests.conftest import (
    ADDRESS,
    checkout_cancelled_event,
    order_event,
    paid_event,
    payment_failed_event,
    shipped_event,
)

pytestmark = pytest.mark.django_db


def later():
    """A time past any backoff: every retry is due."""
    return timezone.now() + timedelta(hours=1)


def lines_of(mail):
    return [line.strip() for line in mail.text.splitlines()]


def test_a_paid_order_mails_a_confirmation_with_lines_costs_and_address(inbox, smtp, users_service):
    event = paid_event(user_id=3)
    order_id = event.data["order_id"]

    state = inbox.receive(event)

    assert state == "handled"
    [mail] = smtp.mail
    assert mail.to == "user3@example.com"
    assert mail.subject == f"Your Souk order {order_id} is paid"
    assert f"your order {order_id} is confirmed." in mail.text
    assert mail.message_id == f"<{event.id}@souk>"
    lines = lines_of(mail)
    assert "2 x Sencha at 9.50: 19.00" in lines
    assert "1 x Teapot & cups at 1039.00: 1039.00" in lines  # plain text: nothing escaped
    assert "Subtotal: 1058.00" in lines
    assert "Shipping: 4.90" in lines
    assert "Total: 1062.90" in lines
    address = lines[lines.index("It will be shipped to:") + 1 :][:5]
    assert address == ["Ada Lovelace", "12 Rua das Flores", "3rd floor", "1200-195 Lisboa", "PT"]
    record = SentEmail.objects.get()
    assert (record.kind, record.status, str(record.order_id)) == ("order_paid", "sent", order_id)
    assert record.body == mail.text.replace("\r\n", "\n")


def test_free_shipping_and_an_address_without_a_second_line_read_plainly(
    inbox, smtp, users_service
):
    address = {key: value for key, value in ADDRESS.items() if key != "line2"}
    inbox.receive(paid_event(shipping_cost="0.00", total="1058.00", shipping_address=address))

    lines = lines_of(smtp.mail[0])

    assert "Shipping: free" in lines
    assert "Total: 1058.00" in lines
    shipped_to = lines[lines.index("It will be shipped to:") + 1 :][:5]
    assert shipped_to == ["Ada Lovelace", "12 Rua das Flores", "1200-195 Lisboa", "PT", ""]
    assert "None" not in smtp.mail[0].text


@pytest.mark.parametrize(
    ("reason", "in_plain_words"),
    [
        ("card_declined", "your card was declined."),
        ("insufficient_funds", "the card has insufficient funds."),
        ("invalid_token", "the card details could not be used."),
    ],
)
def test_a_failed_payment_mails_the_reason_in_plain_words_and_that_nothing_was_charged(
    inbox, smtp, users_service, reason, in_plain_words
):
    event = payment_failed_event(user_id=4, reason=reason)
    order_id = event.data["order_id"]

    inbox.receive(event)

    [mail] = smtp.mail
    assert mail.to == "user4@example.com"
    assert mail.subject == f"Payment for your Souk order {order_id} failed"
    text = " ".join(mail.text.split())
    assert f"we could not take the payment for your order {order_id} (1062.90): " in text
    assert in_plain_words in text
    assert reason not in text  # the code is for machines
    assert "Nothing was charged" in text
    assert SentEmail.objects.get().kind == "order_payment_failed"


def test_a_reason_with_no_plain_words_yet_is_still_mailed_with_its_code(inbox, smtp, users_service):
    inbox.receive(payment_failed_event(reason="expired_card"))

    text = " ".join(smtp.mail[0].text.split())

    assert "the payment provider declined it (expired_card)." in text
    assert "Nothing was charged" in text


def test_a_shipped_order_mails_the_carrier_and_tracking_number(inbox, smtp, users_service):
    event = shipped_event(user_id=5)
    order_id = event.data["order_id"]

    inbox.receive(event)

    [mail] = smtp.mail
    assert mail.to == "user5@example.com"
    assert mail.subject == f"Your Souk order {order_id} has shipped"
    assert f"your order {order_id} is on its way." in mail.text
    lines = lines_of(mail)
    assert "Carrier: CTT Expresso" in lines
    assert "Tracking number: SK4Q7M2XW9PL" in lines
    assert lines[lines.index("It goes to:") + 1] == "Ada Lovelace"
    assert SentEmail.objects.get().kind == "order_shipped"


def test_a_paid_order_cancelled_mails_that_the_payment_is_being_refunded(
    inbox, smtp, users_service
):
    event = checkout_cancelled_event(user_id=6, was_paid=True)
    order_id = event.data["order_id"]

    inbox.receive(event)

    [mail] = smtp.mail
    assert mail.to == "user6@example.com"
    assert mail.subject == f"Your Souk order {order_id} is cancelled"
    text = " ".join(mail.text.split())
    assert f"your order {order_id} (1062.90) is cancelled." in text
    assert "Your payment of 1062.90 is being refunded" in text
    assert SentEmail.objects.get().kind == "order_cancelled"


def test_an_unpaid_order_cancelled_by_its_owner_mentions_no_refund(inbox, smtp, users_service):
    event = checkout_cancelled_event()

    inbox.receive(event)

    text = " ".join(smtp.mail[0].text.split())
    assert f"your order {event.data['order_id']} (1062.90) is cancelled." in text
    assert "refund" not in text
    assert "in time" not in text


def test_an_order_cancelled_for_want_of_payment_says_so(inbox, smtp, users_service):
    event = checkout_cancelled_event(reason="payment_timeout")
    order_id = event.data["order_id"]

    inbox.receive(event)

    text = " ".join(smtp.mail[0].text.split())
    assert (
        f"your order {order_id} (1062.90) is cancelled because no payment arrived in time." in text
    )
    assert "Nothing was charged" in text
    assert "is being refunded" not in text


def test_a_v1_order_cancelled_has_no_was_paid_and_mentions_no_refund(inbox, smtp, users_service):
    event = order_event("order.cancelled")
    assert "was_paid" not in event.data
    assert "reason" not in event.data

    inbox.receive(event)

    text = " ".join(smtp.mail[0].text.split())
    assert f"your order {event.data['order_id']} (1058.00) is cancelled." in text
    assert "refund" not in text


@pytest.mark.parametrize(
    "event_of",
    [
        paid_event,
        payment_failed_event,
        shipped_event,
        lambda: checkout_cancelled_event(was_paid=True),
    ],
    ids=["paid", "payment_failed", "shipped", "cancelled_paid"],
)
def test_each_checkout_event_delivered_twice_mails_once(inbox, smtp, users_service, event_of):
    event = event_of()

    first, second = inbox.receive(event), inbox.receive(event)
    inbox.retry_due(now=later())

    assert (first, second) == ("handled", None)
    assert len(smtp.mail) == 1
    assert event.data["order_id"] in smtp.mail[0].subject
    assert SentEmail.objects.count() == 1
    assert users_service.lookups == 1


def test_an_order_paid_then_shipped_gets_one_mail_for_each(inbox, smtp, users_service):
    paid = paid_event(user_id=3)
    shipped = shipped_event(user_id=3, order_id=paid.data["order_id"])

    for event in (paid, shipped, paid, shipped):
        inbox.receive(event)

    order_id = paid.data["order_id"]
    assert [mail.subject for mail in smtp.mail] == [
        f"Your Souk order {order_id} is paid",
        f"Your Souk order {order_id} has shipped",
    ]
    assert SentEmail.objects.filter(order_id=order_id).count() == 2


def without(event, key):
    del event.data[key]
    return event


@pytest.mark.parametrize(
    "event_of",
    [
        lambda: paid_event(shipping_cost=4.9),  # money is a decimal string
        lambda: paid_event(subtotal="1058.005"),  # in cents
        lambda: paid_event(items=[]),
        lambda: without(paid_event(), "shipping_address"),
        lambda: paid_event(shipping_address="12 Rua das Flores, Lisboa"),
        lambda: paid_event(shipping_address={**ADDRESS, "city": ""}),
        lambda: paid_event(shipping_address={**ADDRESS, "line2": 3}),
        lambda: payment_failed_event(reason=""),
        lambda: payment_failed_event(reason=None),
        lambda: without(payment_failed_event(), "total"),
        lambda: shipped_event(carrier=5),
        lambda: shipped_event(tracking_number=" "),
        lambda: without(shipped_event(), "tracking_number"),
        lambda: checkout_cancelled_event(was_paid="yes"),
        lambda: checkout_cancelled_event(reason=3),
    ],
)
def test_checkout_data_that_breaks_its_version_is_a_dead_letter_at_its_first_retry(
    inbox, smtp, users_service, event_of
):
    event = event_of()

    inbox.receive(event)
    inbox.retry_due(now=later())

    row = InboxEvent.objects.get(event_id=event.id)
    assert (row.state, row.attempts) == ("dead", 2)
    assert "version 1" in row.last_error
    assert smtp.mail == []
    assert not SentEmail.objects.exists()


def placed_event():
    """``order.placed`` as orders publishes it: the order waiting for its payment, and the
    card token for payments."""
    data = {**paid_event().data, "status": "awaiting_payment", "payment_token": "tok_visa"}
    return Event(type="order.placed", source="orders", data=data)


def test_a_placed_order_mails_nobody_and_leaves_no_inbox_row_and_no_dead_letter(
    inbox, smtp, users_service
):
    state = inbox.receive(placed_event())

    assert state is None
    assert not InboxEvent.objects.exists()
    assert smtp.mail == []
    assert not SentEmail.objects.exists()


def test_an_orders_event_of_a_type_nobody_declared_is_a_dead_letter(inbox, smtp, users_service):
    unknown = Event(type="order.misplaced", source="orders", data=paid_event().data)

    assert inbox.receive(unknown) == "dead"
    assert smtp.mail == []
