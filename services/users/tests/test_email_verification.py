"""POST /api/auth/verify-email/: the link mailed at sign-up, and after every change of
address, verifies the address once; GET /api/users/me/ says whether it is verified."""

import time

import pytest
from django.contrib.auth import get_user_model

from accounts.links import email_verification_tokens, link_token
from souk_common.events.models import OutboxEvent
from tests.conftest import PASSWORD, bearer
from tests.test_password_reset import reset_token
from tests.test_registration import register

pytestmark = pytest.mark.django_db


def verify(api, token):
    return api.post("/api/auth/verify-email/", {"token": token}, format="json")


def verification_token(type="user.registered"):
    """The token of the last verification link an event of ``type`` asked notifications to mail."""
    return OutboxEvent.objects.filter(type=type).last().envelope["data"]["verification_token"]


def me(api, access):
    return api.get("/api/users/me/", **bearer(access)).json()


def change_email(api, access, email):
    return api.patch("/api/users/me/", {"email": email}, format="json", **bearer(access))


def test_the_sign_up_link_verifies_the_address_once(api, login):
    register(api, password=PASSWORD)
    access = login("alice")["access"]
    assert me(api, access)["email_verified"] is False
    token = verification_token()

    first = verify(api, token)
    second = verify(api, token)

    assert first.status_code == 204
    assert me(api, access)["email_verified"] is True
    assert second.status_code == 400
    assert second.json()["error"]["details"] == {
        "token": ["This link is invalid, has expired or has been used already."]
    }


def test_a_new_address_is_unverified_and_gets_a_link_of_its_own(api, login):
    register(api, password=PASSWORD)
    access = login("alice")["access"]
    sign_up_token = verification_token()
    assert verify(api, sign_up_token).status_code == 204

    changed = change_email(api, access, "new@example.com")

    assert changed.status_code == 200
    assert changed.json()["email_verified"] is False
    [event] = OutboxEvent.objects.filter(type="user.email_changed")
    assert event.envelope["data"]["user_id"] == changed.json()["id"]
    assert event.secrets == ["verification_token"]
    assert "new@example.com" not in str(event.envelope)
    assert verify(api, verification_token("user.email_changed")).status_code == 204
    assert me(api, access)["email_verified"] is True


def test_the_old_addresss_link_does_not_verify_the_new_one(api, login):
    register(api, password=PASSWORD)
    access = login("alice")["access"]
    sign_up_token = verification_token()

    change_email(api, access, "new@example.com")

    assert verify(api, sign_up_token).status_code == 400
    assert me(api, access)["email_verified"] is False


def test_sending_the_same_address_again_changes_nothing(api, login):
    register(api, password=PASSWORD)
    access = login("alice")["access"]
    verify(api, verification_token())

    response = change_email(api, access, "alice@example.com")

    assert response.json()["email_verified"] is True
    assert not OutboxEvent.objects.filter(type="user.email_changed").exists()


def test_a_verification_link_expires(api, settings):
    settings.EMAIL_VERIFICATION_TIMEOUT = 1
    register(api)
    token = verification_token()
    time.sleep(2.1)  # tokens count whole seconds

    assert verify(api, token).status_code == 400


def test_a_password_reset_token_verifies_nothing(api, alice):
    assert verify(api, reset_token(api)).status_code == 400


@pytest.mark.parametrize("token", ["", "nonsense", "MQ.abc-def"])
def test_a_token_that_is_none_is_refused(api, alice, token):
    response = verify(api, token)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_link_for_one_account_never_verifies_another_whose_id_and_address_run_alike(api):
    user_model = get_user_model()
    mine = user_model.objects.create_user(id=5, username="five", email="0victim@example.com")
    theirs = user_model.objects.create_user(id=50, username="fifty", email="victim@example.com")
    _, check = link_token(email_verification_tokens, mine).split(".")
    forged = f"{link_token(email_verification_tokens, theirs).split('.')[0]}.{check}"

    assert verify(api, forged).status_code == 400
    theirs.refresh_from_db()
    assert theirs.email_verified is False
