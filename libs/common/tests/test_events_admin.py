"""The events admin every service has: outbox and inbox read-only, and dead letters
replayed by the same function as ``dead_letters --replay``."""

import uuid

import pytest
from django.utils import timezone

from souk_common.events.consume import MALFORMED, Handlers
from souk_common.events.envelope import REDACTED
from souk_common.events.models import InboxEvent, OutboxEvent

pytestmark = pytest.mark.django_db

INBOX = "/admin/souk_events/inboxevent/"
OUTBOX = "/admin/souk_events/outboxevent/"
TOKEN = "a-live-reset-token-9f8e7d"

# What a consumer of account mail registers: the token is a secret of its event.
handlers = Handlers()


@handlers.on("account.reset_requested", source="accounts", secrets=("reset_token",))
def mail_the_link(event):  # never called here: the admin only reads its registration
    raise AssertionError(event)


def received(state, type="thing.happened", attempts=5):
    return InboxEvent.objects.create(
        event_id=uuid.uuid4(),
        type=type,
        source="shop",
        state=state,
        envelope={"data": {}},
        attempts=attempts,
        last_error="boom",
        received_at=timezone.now(),
    )


def replay(admin_client, *rows):
    return admin_client.post(
        INBOX,
        {"action": "replay", "_selected_action": [str(row.event_id) for row in rows]},
        follow=True,
    )


def test_replaying_a_dead_letter_in_the_admin_queues_it_for_the_consumer_now(admin_client):
    dead = received("dead")

    response = replay(admin_client, dead)

    dead.refresh_from_db()
    assert (dead.state, dead.attempts) == ("retrying", 0)
    assert dead.next_attempt_at <= timezone.now()
    assert b"1 dead letter(s) replayed" in response.content


def test_the_admin_replays_only_dead_letters_and_names_the_others(admin_client):
    dead, handled = received("dead"), received("handled", attempts=1)
    malformed = received("dead", type=MALFORMED, attempts=0)

    response = replay(admin_client, dead, handled, malformed)

    text = response.content.decode()
    assert "1 dead letter(s) replayed" in text
    assert f"Event {handled.event_id} was not replayed: it is handled, not a dead letter." in text
    assert f"Event {malformed.event_id} was not replayed: it is no event" in text
    states = [InboxEvent.objects.get(pk=row.pk).state for row in (dead, handled, malformed)]
    assert states == ["retrying", "handled", "dead"]


def test_events_cannot_be_edited_or_deleted_in_the_admin(admin_client):
    dead = received("dead")
    sent = OutboxEvent.objects.create(
        event_id=uuid.uuid4(),
        type="thing.happened",
        version=1,
        envelope={},
        created_at=timezone.now(),
    )

    page = admin_client.get(f"{INBOX}{dead.pk}/change/")

    assert page.status_code == 200  # shown, read-only
    assert b'name="_save"' not in page.content
    assert admin_client.post(f"{INBOX}{dead.pk}/change/", {"state": "handled"}).status_code == 403
    assert admin_client.post(f"{INBOX}{dead.pk}/delete/", {"post": "yes"}).status_code == 403
    outbox = f"/admin/souk_events/outboxevent/{sent.pk}"
    assert admin_client.post(f"{outbox}/delete/", {"post": "yes"}).status_code == 403
    assert InboxEvent.objects.get(pk=dead.pk).state == "dead"
    assert OutboxEvent.objects.filter(pk=sent.pk).exists()


def test_an_outbox_events_secrets_are_never_shown_while_it_waits_to_be_sent(admin_client):
    waiting = OutboxEvent.objects.create(
        event_id=uuid.uuid4(),
        type="account.reset_requested",
        version=1,
        envelope={"data": {"user_id": 7, "reset_token": TOKEN}},
        secrets=["reset_token"],
        created_at=timezone.now(),
    )

    page = admin_client.get(f"{OUTBOX}{waiting.pk}/change/").content.decode()

    assert TOKEN not in page
    assert REDACTED in page
    assert "user_id" in page
    assert OutboxEvent.objects.get(pk=waiting.pk).envelope["data"]["reset_token"] == TOKEN


def test_a_dead_letters_secrets_are_never_shown(admin_client, settings):
    settings.SOUK = {**settings.SOUK, "EVENTS_HANDLERS": f"{__name__}.handlers"}
    dead = received("dead", type="account.reset_requested")
    dead.envelope = {"data": {"user_id": 7, "reset_token": TOKEN}}
    dead.save()

    page = admin_client.get(f"{INBOX}{dead.pk}/change/").content.decode()

    assert TOKEN not in page
    assert REDACTED in page
    assert "user_id" in page
