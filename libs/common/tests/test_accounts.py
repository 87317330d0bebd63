"""Staff privileges follow the account, as the users service says it is now, not the token."""

import re

import pytest
from django.test import Client

from souk_common import accounts
from souk_common.accounts import Account
from souk_common.testing import Dropped, FakeUsersService, Hung

STAFF_ID = 7


@pytest.fixture
def users(users_service):
    """The users service, faked: user 7 is staff."""
    users_service.staff.add(STAFF_ID)
    return users_service


@pytest.fixture
def staff_token(token_factory):
    return token_factory.access(user_id=STAFF_ID, username="root", is_staff=True)


def staff_only(token):
    return Client().get("/staff-only/", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_staff_the_users_service_confirms_may_act(users, staff_token):
    assert staff_only(staff_token).status_code == 200
    assert users.lookups == 1


@pytest.mark.parametrize("change", ["demoted", "deactivated", "deleted"])
def test_a_staff_token_whose_account_changed_is_refused(users, staff_token, change):
    if change == "demoted":
        users.staff.clear()
    elif change == "deactivated":
        users.inactive.add(STAFF_ID)
    else:
        users.missing.add(STAFF_ID)

    response = staff_only(staff_token)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_demotion_applies_once_the_remembered_state_expires(users, staff_token, account_clock):
    assert staff_only(staff_token).status_code == 200

    users.staff.clear()  # demoted in the users service
    account_clock.now += 4.9
    assert staff_only(staff_token).status_code == 200  # still remembered: at most 5 s
    account_clock.now += 0.1

    assert staff_only(staff_token).status_code == 403
    assert users.lookups == 2


@pytest.mark.parametrize("failure", [Dropped(), Hung(seconds=3)], ids=["refused", "hung"])
def test_when_the_users_service_cannot_be_asked_staff_privileges_fail_closed(
    users, staff_token, failure
):
    users.failure = failure

    response = staff_only(staff_token)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "upstream_unavailable"
    assert int(response["Retry-After"]) > 0


def test_a_failure_to_ask_is_not_remembered(users, staff_token):
    users.failure = Dropped()
    assert staff_only(staff_token).status_code == 503

    users.failure = None

    assert staff_only(staff_token).status_code == 200


def fake_users_at(fake_service, settings):
    """A users service with nothing registered yet, named by SOUK["USERS_URL"]."""
    server = fake_service()
    settings.SOUK = {**settings.SOUK, "USERS_URL": server.url}
    return server


def test_when_users_refuses_this_services_credentials_staff_privileges_fail_closed(
    staff_token, fake_service, settings
):
    users = fake_users_at(fake_service, settings)
    users.add("POST", "/internal/auth/token/", status=401)

    response = staff_only(staff_token)

    assert response.status_code == 503


def test_an_account_answer_that_makes_no_sense_is_502(staff_token, fake_service, settings):
    users = fake_users_at(fake_service, settings)
    users.add(  # registered first, so it answers before the fake's own
        "GET",
        re.compile(rf"/internal/users/{STAFF_ID}/"),
        json={"id": STAFF_ID, "username": "root", "is_active": True, "is_staff": "yes"},
    )
    FakeUsersService().install(users)

    response = staff_only(staff_token)

    assert response.status_code == 502


def test_a_token_that_does_not_say_staff_never_asks(users, token_factory):
    response = staff_only(token_factory.access(user_id=STAFF_ID, is_staff=False))

    assert response.status_code == 403
    assert users.lookups == 0


def test_answers_are_remembered_for_each_account(users, staff_token):
    for _ in range(3):
        staff_only(staff_token)

    assert users.lookups == 1
    assert accounts.account_directory().get(8) == Account(8, "user8", True, False)
    assert users.lookups == 2
