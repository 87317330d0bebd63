"""POST /api/users/: who may register, and what is refused."""

import json
from datetime import datetime

import pytest

from accounts.models import User
from souk_common.events.models import OutboxEvent

pytestmark = pytest.mark.django_db


def register(api, **fields):
    body = {"username": "alice", "email": "alice@example.com", "password": "s3cure-enough-pass"}
    body.update(fields)
    return api.post("/api/users/", body, format="json")


def test_registration_creates_the_account(api):
    response = register(api)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "email", "date_joined"}
    user = User.objects.get(pk=body["id"])
    assert user.username == "alice"
    assert user.check_password("s3cure-enough-pass")
    assert not user.is_staff


def test_a_registration_publishes_user_registered_without_the_email_address(api):
    body = register(api).json()

    event = OutboxEvent.objects.get()
    assert (event.type, event.version, event.envelope["source"]) == ("user.registered", 1, "users")
    data = dict(event.envelope["data"])
    joined = datetime.fromisoformat(data.pop("date_joined"))
    assert joined == datetime.fromisoformat(body["date_joined"])
    # The link that verifies the address (tests/test_email_verification.py): a secret of the
    # event, which the relay redacts once it has sent it.
    assert data.pop("verification_token")
    assert datetime.fromisoformat(data.pop("verification_expires_at")) > joined
    assert event.secrets == ["verification_token"]
    assert data == {"user_id": body["id"], "username": "alice"}
    assert "alice@example.com" not in json.dumps(event.envelope)


def test_a_refused_registration_publishes_nothing(api, make_user):
    make_user("alice", email="first@example.com")

    response = register(api, username="Alice", email="second@example.com")

    assert response.status_code == 400
    assert not OutboxEvent.objects.exists()


def test_privilege_fields_sent_at_registration_are_ignored(api):
    response = register(api, is_staff=True, is_superuser=True, is_active=False)

    assert response.status_code == 201
    user = User.objects.get(pk=response.json()["id"])
    assert (user.is_staff, user.is_superuser, user.is_active) == (False, False, True)


@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice"])
def test_duplicate_username_in_any_case_is_refused(api, make_user, taken):
    make_user("alice", email="first@example.com")

    response = register(api, username=taken, email="second@example.com")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "username" in response.json()["error"]["details"]
    assert User.objects.count() == 1


def test_duplicate_email_in_any_case_is_refused(api, make_user):
    make_user("first", email="alice@example.com")

    response = register(api, username="second", email="ALICE@Example.com")

    assert response.status_code == 400
    assert "email" in response.json()["error"]["details"]


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "alice@example.com"])
def test_weak_passwords_are_refused_by_djangos_validators(api, password):
    response = register(api, password=password)

    assert response.status_code == 400
    assert "password" in response.json()["error"]["details"]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"username": ""},
        {"username": "has space"},
        {"username": "\u0430dmin"},  # a Cyrillic a
        {"username": "x" * 151},
        {"email": "not-an-email"},
        {"password": None},
    ],
)
def test_invalid_fields_are_validation_errors(api, fields):
    response = register(api, **fields)

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) & set(fields)


@pytest.mark.postgres  # PostgreSQL's UPPER() matches it to "LIMIT"
def test_a_non_ascii_name_is_refused_without_saying_whom_it_folds_to(api):
    register(api, username="limit", email="limit@example.com")

    response = register(api, username="l\N{LATIN SMALL LETTER DOTLESS I}mit")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["username"] == [
        "Enter a valid username. This value may contain only unaccented lowercase a-z and "
        "uppercase A-Z letters, numbers, and @/./+/-/_ characters."
    ]
