"""No card data: the token an order is placed with is in no answer, no row (the database
dumped whole, the inbox's copy of the event included once the payment is settled), no
event published and no log line. The inbox's copy loses it in the transaction that
settles the payment, not after: these tests never commit, and find it gone."""

import io
import logging
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from payments.models import Payment
from souk_common.events.models import InboxEvent, OutboxEvent
from tests.conftest import cancelled_event, placed_event

pytestmark = pytest.mark.django_db

TOKENS = [
    "tok_visa",
    "tok_mastercard",
    "tok_chargeDeclined",
    "tok_insufficientFunds",
    "tok_providerDown",
    "tok_4242424242424242_a_secret_of_its_own",
]


def later():
    return timezone.now() + timedelta(hours=1)


def database_dump():
    """Every row of every table, as ``manage.py dumpdata`` writes them."""
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def test_no_token_is_in_any_row_event_answer_or_log_line(inbox, provider, settings, staff, caplog):
    settings.SOUK = {**settings.SOUK, "EVENTS_MAX_ATTEMPTS": 2}
    caplog.set_level(logging.DEBUG)
    placed = [placed_event(user_id=1, card=token) for token in TOKENS]
    for event in placed:
        inbox.receive(event)
    inbox.retry_due(now=later())  # tok_providerDown: down again, a dead letter
    for event in placed:  # every order cancelled: refunds, and the dead letter's voided
        inbox.receive(cancelled_event(order_id=event.data["order_id"], user_id=1))
    answers = staff.get("/api/payments/").content.decode()

    statuses = sorted(Payment.objects.values_list("status", flat=True))
    assert statuses == ["cancelled", "failed", "failed", "failed", "refunded", "refunded"]
    assert sorted(OutboxEvent.objects.values_list("type", flat=True)) == [
        *["payment.failed"] * 3,
        *["payment.refunded"] * 2,
        *["payment.succeeded"] * 2,
    ]
    dump = database_dump()
    logged = caplog.text + "".join(repr(vars(record)) for record in caplog.records)
    for token in TOKENS:
        assert token not in dump
        assert token not in answers
        assert token not in logged
    assert "[redacted]" in dump  # the inbox's copies of order.placed, settled


def test_the_token_stays_only_while_its_charge_waits_for_a_retry(inbox, provider):
    provider.down_for = 1
    event = placed_event(card="tok_mastercard")

    inbox.receive(event)
    waiting = InboxEvent.objects.get(event_id=event.id).envelope["data"]["payment_token"]
    inbox.retry_due(now=later())
    settled = InboxEvent.objects.get(event_id=event.id)

    assert waiting == "tok_mastercard"  # the retry needs it
    assert settled.state == "handled"
    assert settled.envelope["data"]["payment_token"] == "[redacted]"
    assert settled.envelope["data"]["order_id"] == event.data["order_id"]  # the rest stays
    assert "tok_mastercard" not in database_dump()


def test_a_charge_dead_lettered_loses_its_token_once_its_order_is_cancelled(
    inbox, provider, settings
):
    settings.SOUK = {**settings.SOUK, "EVENTS_MAX_ATTEMPTS": 1}
    order_id = uuid.uuid4()
    event = placed_event(order_id=order_id, card="tok_providerDown")

    inbox.receive(event)
    dead = InboxEvent.objects.get(event_id=event.id)
    inbox.receive(cancelled_event(order_id=order_id, reason="payment_timeout"))

    assert dead.state == "dead"
    assert dead.envelope["data"]["payment_token"] == "tok_providerDown"
    assert InboxEvent.objects.get(event_id=event.id).envelope["data"]["payment_token"] == (
        "[redacted]"
    )
    assert "tok_providerDown" not in database_dump()
