"""The account mails users' events ask for: a password-reset link, the link that verifies
an address (with the welcome at sign-up, alone after a change of address); each once, with
its token in the mail and kept nowhere here once the mail is sent."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from notifications.models import SentEmail
from souk_common.events.models import InboxEvent
from tests.conftest import email_changed_event, password_reset_event, registered_event

pytestmark = pytest.mark.django_db

SERVICE = Path(__file__).resolve().parent.parent
RESET_TOKEN = "Nw.ckq1x4-0a1b2c3d4e5f"


def kept(event):
    """Everything this service keeps of ``event``: its inbox row and its mail's record."""
    rows = [InboxEvent.objects.get(event_id=event.id).envelope]
    rows += list(SentEmail.objects.filter(event_id=event.id).values())
    return json.dumps(rows, default=str)


def test_a_reset_request_mails_the_link_once_and_keeps_no_token(inbox, smtp, users_service):
    event = password_reset_event(user_id=7)

    first, second = inbox.receive(event), inbox.receive(event)

    assert (first, second) == ("handled", None)
    [mail] = smtp.mail
    assert mail.to == "user7@example.com"
    assert mail.subject == "Reset your Souk password"
    assert f"http://127.0.0.1:8080/password-reset/confirm/?token={RESET_TOKEN}" in mail.text
    assert "until 30 November 2026, 11:00 UTC" in mail.text
    record = SentEmail.objects.get()
    assert (record.kind, record.status, record.recipient) == ("password_reset", "sent", mail.to)
    assert "[redacted]" in record.body
    assert RESET_TOKEN not in kept(event)
    assert InboxEvent.objects.get().envelope["data"]["reset_token"] == "[redacted]"


def test_the_link_is_the_settings(inbox, smtp, users_service, settings):
    settings.PASSWORD_RESET_URL = "https://shop.example/reset#{token}"

    inbox.receive(password_reset_event(reset_token="MTI.abc-12_3"))

    assert "https://shop.example/reset#MTI.abc-12_3\n" in smtp.mail[0].text.replace("\r", "")


def test_a_failed_attempt_keeps_the_token_for_its_retry_only(inbox, smtp, users_service):
    event = password_reset_event()
    smtp.stop()

    assert inbox.receive(event) == "retrying"
    assert InboxEvent.objects.get().envelope["data"]["reset_token"] == RESET_TOKEN

    smtp.start()
    inbox.retry_due(now=timezone.now() + timedelta(hours=1))

    assert RESET_TOKEN in smtp.mail[0].text
    assert RESET_TOKEN not in kept(event)


def test_the_welcome_carries_the_link_that_verifies_the_address(inbox, smtp, users_service):
    event = registered_event(user_id=3, verification_token="Mw.ckq1x4-77aa")

    inbox.receive(event)

    [mail] = smtp.mail  # one mail: welcome and link
    assert mail.subject == "Welcome to Souk, user3"
    assert "http://127.0.0.1:8080/verify-email/?token=Mw.ckq1x4-77aa" in mail.text
    assert "until 3 December 2026, 10:00 UTC" in mail.text
    assert "You can order before you confirm it." in mail.text
    assert "Mw.ckq1x4-77aa" not in kept(event)


def test_a_welcome_without_a_token_has_no_link(inbox, smtp, users_service):
    inbox.receive(registered_event(user_id=3))

    assert "verify-email" not in smtp.mail[0].text
    assert "Please confirm" not in smtp.mail[0].text


def test_a_new_address_gets_the_link_that_verifies_it(inbox, smtp, users_service):
    event = email_changed_event(user_id=4, verification_token="NA.ckq1x4-99bb")

    inbox.receive(event)

    [mail] = smtp.mail
    assert mail.to == "user4@example.com"  # the address now, the new one
    assert mail.subject == "Confirm your e-mail address for Souk"
    assert "http://127.0.0.1:8080/verify-email/?token=NA.ckq1x4-99bb" in mail.text
    assert SentEmail.objects.get().kind == "email_verification"
    assert "NA.ckq1x4-99bb" not in kept(event)


@pytest.mark.parametrize(
    "broken", [{"reset_token": ""}, {"reset_token": None}, {"reset_expires_at": "tomorrow"}]
)
def test_a_reset_event_without_a_usable_link_is_a_dead_letter(inbox, smtp, users_service, broken):
    event = password_reset_event(**broken)

    inbox.receive(event)
    inbox.retry_due(now=timezone.now() + timedelta(hours=1))

    assert InboxEvent.objects.get().state == "dead"
    assert smtp.mail == []


def link_settings(**environment):
    script = (
        "import json; from notifications_service import settings as s; "
        "print(json.dumps([s.PASSWORD_RESET_URL, s.EMAIL_VERIFICATION_URL]))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=SERVICE,
        env={"PATH": os.environ["PATH"], "SOUK_ENV": "development", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_links_come_from_the_environment_and_must_hold_the_token():
    configured = link_settings(
        PASSWORD_RESET_URL="https://shop.example/r?t={token}",
        EMAIL_VERIFICATION_URL="https://shop.example/v?t={token}",
    )
    without_token = link_settings(PASSWORD_RESET_URL="https://shop.example/reset")

    assert json.loads(configured.stdout.splitlines()[-1]) == [
        "https://shop.example/r?t={token}",
        "https://shop.example/v?t={token}",
    ]
    assert without_token.returncode != 0
    assert "PASSWORD_RESET_URL must contain {token}" in without_token.stderr
