"""Staff sign in to a service's admin with their users account, for as long as the users
service confirms it (souk_common.staff), against a fake users service at its HTTP boundary."""

import time

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from souk_common import staff
from souk_common.staff import (
    REFRESH_SESSION_KEY,
    SIGNED_OUT_MESSAGE,
    STAFF_BACKEND,
    USERS_UNAVAILABLE_MESSAGE,
)
from souk_common.testing import Dropped

pytestmark = pytest.mark.django_db

PASSWORD = "a-staff-password"


@pytest.fixture(autouse=True)
def _staff_sign_in_with_users(settings):
    settings.AUTHENTICATION_BACKENDS = [STAFF_BACKEND]
    cache.clear()  # failed logins counted by other tests
    yield
    cache.clear()


@pytest.fixture
def users(users_sign_in):
    """The users service, faked: ``ada`` is staff, ``bob`` a customer."""
    users_sign_in.add("ada", PASSWORD)
    users_sign_in.add("bob", PASSWORD, is_staff=False)
    return users_sign_in


def sign_in(client, username="ada", password=PASSWORD):
    return client.post("/admin/login/", {"username": username, "password": password})


@pytest.fixture
def ada(users, client):
    """Ada's signed-in client, and her account at users."""
    assert sign_in(client).status_code == 302
    return client, users.accounts[101]


def page_after_redirect(client, response):
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def test_staff_sign_in_with_their_users_account_and_get_a_local_record(users, client):
    response = sign_in(client, "ADA")  # usernames are folded, as users folds them

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    user = User.objects.get()
    assert (user.pk, user.username) == (101, "ada")
    assert (user.is_staff, user.is_superuser, user.is_active) == (True, True, True)
    assert not user.has_usable_password()
    assert client.session["_auth_user_id"] == "101"
    assert client.session[REFRESH_SESSION_KEY].startswith("refresh-")


def test_signing_in_brings_the_local_record_in_step_with_users(users, client):
    local = User.objects.create_user("ada", password="an-old-local-password", is_staff=True)
    User.objects.create(pk=101, username="ada-before-renaming", is_staff=False, is_active=False)

    assert sign_in(client).status_code == 302

    ada = User.objects.get(pk=101)
    assert (ada.username, ada.is_staff, ada.is_active) == ("ada", True, True)
    former = User.objects.get(pk=local.pk)
    assert (former.username, former.is_active) == (f"former-{local.pk}-ada", False)
    assert not former.has_usable_password()
    assert sign_in(Client(), "ada", "an-old-local-password").status_code == 200  # refused


@pytest.mark.parametrize(
    ("username", "password"), [("bob", PASSWORD), ("ada", "wrong"), ("nobody", PASSWORD)]
)
def test_customers_and_wrong_passwords_are_refused(users, client, username, password):
    response = sign_in(client, username, password)

    assert response.status_code == 200  # the login page again, saying why
    assert "Please enter the correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.exists()


def test_a_customers_session_at_users_is_closed_at_once(users, client):
    sign_in(client, "bob")

    assert len(users.revoked) == 1


@pytest.mark.parametrize("change", ["demoted", "deactivated"])
def test_demoted_or_deactivated_staff_are_signed_out_on_their_next_request(ada, change):
    client, account = ada
    assert client.get("/admin/").status_code == 200

    if change == "demoted":
        account.is_staff = False
    else:
        account.is_active = False
    response = client.get("/admin/")

    assert response["Location"] == "/admin/login/?next=/admin/"
    assert SIGNED_OUT_MESSAGE in page_after_redirect(client, response)
    assert "_auth_user_id" not in client.session
    local = User.objects.get(pk=101)
    assert (local.is_staff, local.is_active) == (
        (False, True) if change == "demoted" else (True, False)
    )


def test_each_request_of_a_staff_session_is_confirmed_with_users(users, client):
    sign_in(client)
    refresh = client.session[REFRESH_SESSION_KEY]
    asked = users.me_calls

    client.get("/admin/")
    client.get("/admin/auth/user/")

    assert users.me_calls == asked + 2
    assert client.session[REFRESH_SESSION_KEY] == refresh  # its access token still fresh


def test_users_not_answering_refuses_the_request_and_keeps_the_session(ada, users):
    client, _ = ada
    users.failure = Dropped()

    refused = client.get("/admin/")

    assert refused.status_code == 503
    assert refused.content.decode() == USERS_UNAVAILABLE_MESSAGE
    users.failure = None
    assert client.get("/admin/").status_code == 200  # the same session, confirmed again


def test_users_not_answering_a_sign_in_is_said_on_the_login_page(users, client):
    users.failure = Dropped()

    response = sign_in(client)

    assert response.status_code == 200
    assert USERS_UNAVAILABLE_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.exists()


def test_an_access_token_about_to_expire_is_renewed_and_the_old_refresh_token_dies(users, client):
    users.access_seconds = 20  # less than the 30 s before expiry it is renewed at
    sign_in(client)
    first = client.session[REFRESH_SESSION_KEY]

    assert client.get("/admin/").status_code == 200

    assert client.session[REFRESH_SESSION_KEY] != first
    assert first in users.revoked


def test_a_renewal_refused_by_users_signs_the_session_out_once_its_access_token_is_dead(
    users, client
):
    users.access_seconds = 1
    sign_in(client)
    users.revoked.add(client.session[REFRESH_SESSION_KEY])  # e.g. revoked by a password reset
    time.sleep(1.2)

    response = client.get("/admin/")

    assert response["Location"] == "/admin/login/?next=/admin/"
    assert "_auth_user_id" not in client.session


def test_a_renewal_lost_to_a_request_alongside_keeps_the_session_while_its_token_lives(
    users, client
):
    users.access_seconds = 20  # renewed at the next request
    sign_in(client)
    # Another request of the session renewed the pair first and has not stored it yet:
    # users refuses the refresh token this one holds.
    users.revoked.add(client.session[REFRESH_SESSION_KEY])

    response = client.get("/admin/")

    assert response.status_code == 200  # users still confirms the live access token
    assert client.session["_auth_user_id"] == "101"


def test_users_not_answering_sign_ins_locks_nobody_out_of_the_admin(users, client):
    users.failure = Dropped()
    for _ in range(5):  # more than the failed logins a username may have (3 here)
        assert USERS_UNAVAILABLE_MESSAGE in sign_in(client).content.decode()
    users.failure = None
    staff.reset()  # the circuit to users, opened by the failures, closes in time

    assert sign_in(client).status_code == 302


def test_only_the_admins_pages_ask_users(ada, users):
    client, _ = ada
    users.failure = Dropped()

    assert client.get("/health/live").status_code == 200
    assert client.get("/admin/").status_code == 503


def test_signing_out_of_the_admin_revokes_the_refresh_token_at_users(ada, users):
    client, _ = ada
    refresh = client.session[REFRESH_SESSION_KEY]

    response = client.post("/admin/logout/")

    assert response.status_code == 200
    assert refresh in users.revoked
    assert "_auth_user_id" not in client.session


def test_a_session_with_no_users_tokens_is_signed_out(users, client):
    staff = User.objects.create(pk=101, username="ada", is_staff=True, is_superuser=True)
    client.force_login(staff, backend=STAFF_BACKEND)  # a session no sign-in made

    response = client.get("/admin/")

    assert response["Location"] == "/admin/login/?next=/admin/"
    assert "_auth_user_id" not in client.session
