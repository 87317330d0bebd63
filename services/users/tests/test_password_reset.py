"""POST /api/auth/password-reset/ and /api/auth/password-reset/confirm/: a link mailed
through an event, which resets the password once, before it expires, and ends every
session; an address with no account is answered alike, with the same work done."""

import time
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from souk_common.events.models import OutboxEvent
from souk_common.testing import run_concurrently
from tests.conftest import PASSWORD
from tests.test_sign_in import sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-and-long-passphrase"
ACCEPTED = {
    "detail": "If an active account has this e-mail address, a link to reset its password "
    "is on its way."
}


def request_reset(api, email):
    return api.post("/api/auth/password-reset/", {"email": email}, format="json")


def confirm(api, token, new_password=NEW_PASSWORD):
    return api.post(
        "/api/auth/password-reset/confirm/",
        {"token": token, "new_password": new_password},
        format="json",
    )


def reset_events():
    return list(OutboxEvent.objects.filter(type="user.password_reset_requested"))


def reset_token(api, email="alice@example.com"):
    """The token of the link a reset request for ``email`` has notifications mail."""
    assert request_reset(api, email).status_code == 202
    return reset_events()[-1].envelope["data"]["reset_token"]


def test_a_reset_request_publishes_the_link_for_notifications_to_mail(api, alice):
    response = request_reset(api, "alice@example.com")

    assert response.status_code == 202
    assert response.json() == ACCEPTED
    [event] = reset_events()
    data = event.envelope["data"]
    assert (event.version, data["user_id"]) == (1, alice.pk)
    assert data["reset_token"].startswith(f"{urlsafe_base64_encode(str(alice.pk).encode())}.")
    expires_in = datetime.fromisoformat(data["reset_expires_at"]) - timezone.now()
    assert timedelta(minutes=59) < expires_in <= timedelta(hours=1)  # PASSWORD_RESET_SECONDS
    assert event.secrets == ["reset_token"]  # redacted in the outbox once sent
    assert "alice@example.com" not in str(event.envelope)


def test_an_address_with_no_account_gets_the_same_answer_and_no_event(api, alice):
    known = request_reset(api, "alice@example.com")
    unknown = request_reset(api, "nobody@example.com")

    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
    assert unknown.content == known.content
    assert [e.envelope["data"]["user_id"] for e in reset_events()] == [alice.pk]


def statements(api, email):
    """What the database is asked to do for a reset request, its values left out."""
    with CaptureQueriesContext(connection) as queries:
        assert request_reset(api, email).status_code == 202
    return [" ".join(q["sql"].split()[:3]) for q in queries.captured_queries]


@pytest.mark.postgres  # the commit's setting is PostgreSQL's
@pytest.mark.django_db(transaction=True)
def test_an_address_with_no_account_costs_the_same_statements_rolled_back(api, alice):
    known = statements(api, "alice@example.com")
    unknown = statements(api, "nobody@example.com")

    # The account's query, then the event's INSERT in a transaction of its own, both ways:
    # committed for the account (not waiting for the disk, as a rollback does not), rolled
    # back for the address with none.
    assert known[:-1] == unknown[:-1]
    assert [statement.split()[0] for statement in known[:-1]] == [
        "SELECT",
        "BEGIN",
        "SET",
        "INSERT",
    ]
    assert known[2] == "SET LOCAL synchronous_commit"
    assert (known[-1], unknown[-1]) == ("COMMIT", "ROLLBACK")
    assert [e.envelope["data"]["user_id"] for e in reset_events()] == [alice.pk]


def test_the_address_is_found_in_any_case(api, alice):
    request_reset(api, " ALICE@Example.COM ")

    assert [e.envelope["data"]["user_id"] for e in reset_events()] == [alice.pk]


def test_a_deactivated_account_gets_no_link(api, make_user):
    make_user("gone", is_active=False)

    assert request_reset(api, "gone@example.com").json() == ACCEPTED
    assert reset_events() == []


def test_an_address_that_is_not_one_is_a_validation_error(api):
    response = request_reset(api, "not an address")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["email"]


def test_requests_are_throttled_per_address_asked_about_known_or_not(api, alice, rates):
    rates(password_reset_email="3/hour", password_reset_address="100/min")

    known = [request_reset(api, "alice@example.com").status_code for _ in range(4)]
    unknown = [request_reset(api, "NOBODY@example.com").status_code for _ in range(4)]

    assert known == unknown == [202, 202, 202, 429]
    assert len(reset_events()) == 3
    refused = request_reset(api, "nobody@example.com")  # the same address in another case
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) > 0


def test_requests_are_throttled_per_client_address(api, make_user, rates):
    rates(password_reset_address="3/min", password_reset_email="100/min")

    codes = [request_reset(api, f"user{n}@example.com").status_code for n in range(4)]

    assert codes == [202, 202, 202, 429]


def test_confirming_sets_the_password_and_ends_every_session(api, alice, login):
    sessions = [login("alice"), login("alice")]
    token = reset_token(api)

    response = confirm(api, token)

    assert response.status_code == 204
    assert response.content == b""
    assert sign_in(api, "alice", PASSWORD).status_code == 401
    assert sign_in(api, "alice", NEW_PASSWORD).status_code == 200
    for session in sessions:
        again = api.post("/api/auth/token/refresh/", {"refresh": session["refresh"]}, format="json")
        assert again.status_code == 401
        assert again.json()["error"]["message"] == "Invalid refresh token: Token is blacklisted"
    revoked = OutstandingToken.objects.filter(user=alice, blacklistedtoken__isnull=False)
    assert revoked.count() == 2
    alice.refresh_from_db()
    assert alice.email_verified  # the link reached the mailbox


def test_a_token_works_once(api, alice):
    token = reset_token(api)
    assert confirm(api, token).status_code == 204

    again = confirm(api, token, "yet-another-long-passphrase")

    assert again.status_code == 400
    assert again.json()["error"] == {
        "code": "validation_error",
        "message": "This link is invalid, has expired or has been used already.",
        "details": {"token": ["This link is invalid, has expired or has been used already."]},
        "request_id": again["X-Request-ID"],
    }
    assert sign_in(api, "alice", NEW_PASSWORD).status_code == 200


def test_a_token_expires(api, alice, settings):
    settings.PASSWORD_RESET_TIMEOUT = 1
    token = reset_token(api)
    time.sleep(2.1)  # tokens count whole seconds

    response = confirm(api, token)

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["token"]
    assert sign_in(api, "alice", PASSWORD).status_code == 200


def test_signing_in_after_the_request_retires_the_link(api, alice):
    token = reset_token(api)
    sign_in(api, "alice", PASSWORD)

    # Django's tokens hash the last sign-in; a user who remembered their password and
    # signed in has no use for the link any more.
    assert confirm(api, token).status_code == 400


def test_the_password_validators_apply_and_the_token_still_works(api, alice):
    token = reset_token(api)

    weak = confirm(api, token, "alice")

    assert weak.status_code == 400
    error = weak.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["new_password"]
    assert any("too short" in message for message in error["details"]["new_password"])
    assert confirm(api, token).status_code == 204


@pytest.mark.parametrize(
    "forge",
    [
        lambda token, other: "not-a-token",
        lambda token, other: "",
        lambda token, other: token[:-1] + ("0" if token[-1] != "0" else "1"),
        lambda token, other: other.split(".")[0] + "." + token.split(".")[1],
        lambda token, other: "MA." + token.split(".")[1],  # user id 0
    ],
    ids=["garbage", "empty", "altered", "another-account", "no-account"],
)
def test_a_forged_token_is_refused(api, alice, make_user, forge):
    make_user("bob")
    token = reset_token(api)
    other = reset_token(api, "bob@example.com")

    response = confirm(api, forge(token, other))

    assert response.status_code == 400
    assert sign_in(api, "alice", PASSWORD).status_code == 200
    assert sign_in(api, "bob", PASSWORD).status_code == 200


def test_a_deactivated_accounts_token_is_refused(api, alice):
    token = reset_token(api)
    User.objects.filter(pk=alice.pk).update(is_active=False)

    assert confirm(api, token).status_code == 400


def test_confirming_is_throttled_per_client_address(api, alice, rates):
    rates(link_token_address="3/min")

    codes = [confirm(api, "not-a-token").status_code for _ in range(4)]

    assert codes == [400, 400, 400, 429]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_confirmations_of_one_token_succeed_once():
    User.objects.create_user(username="alice", email="alice@example.com", password=PASSWORD)
    token = reset_token(APIClient())

    statuses = run_concurrently(lambda n: confirm(APIClient(), token, f"{NEW_PASSWORD}{n}"), 5)

    assert sorted(r.status_code for r in statuses) == [204] + [400] * 4
    assert BlacklistedToken.objects.count() == 0  # nobody was signed in
