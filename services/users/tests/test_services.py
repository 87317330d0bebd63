"""accounts.services: what each refusal is in the domain (its error, code and details) and
what each write returns, without HTTP in between."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import services
from accounts.models import ServiceClient
from souk_common.errors import InvalidInput, NotAuthenticated
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

SECRET = "a-long-enough-service-secret"


def test_a_refused_registration_names_every_field_at_fault(alice):
    with pytest.raises(InvalidInput) as refused:
        services.user_register(username="ALICE", email="Alice@Example.com", password="alice")

    assert refused.value.code == "validation_error"
    assert refused.value.message == "The request is invalid."
    assert set(refused.value.details) == {"username", "email", "password"}
    assert refused.value.details["email"] == ["A user with that email already exists."]


def test_sign_in_gives_a_token_pair(alice):
    pair = services.auth_login(request=None, username="alice", password=PASSWORD)

    assert isinstance(pair, services.TokenPair)
    assert OutstandingToken.objects.get(user=alice).token == pair.refresh


def test_wrong_credentials_are_invalid_credentials(alice):
    with pytest.raises(services.InvalidCredentials) as refused:
        services.auth_login(request=None, username="alice", password="wrong")

    assert isinstance(refused.value, NotAuthenticated)
    assert refused.value.status == 401
    assert refused.value.message == "No active account found with the given credentials."


def test_refresh_gives_a_new_pair_and_the_old_refresh_token_is_revoked(alice):
    first = services.auth_login(request=None, username="alice", password=PASSWORD)

    second = services.auth_refresh(refresh=first.refresh)

    assert second.refresh != first.refresh
    with pytest.raises(services.RefreshTokenRevoked) as refused:
        services.auth_refresh(refresh=first.refresh)
    assert refused.value.message == "Invalid refresh token: Token is blacklisted"


@pytest.mark.parametrize(
    ("token", "error", "message"),
    [
        ("not-a-token", services.InvalidRefreshToken, "Invalid refresh token: Token is invalid"),
        ("access", services.NotARefreshToken, "Invalid refresh token: Token has wrong type"),
    ],
)
def test_a_token_that_cannot_refresh_says_why(alice, token, error, message):
    pair = services.auth_login(request=None, username="alice", password=PASSWORD)
    raw = pair.access if token == "access" else token

    for use in (services.auth_refresh, services.auth_logout):
        with pytest.raises(error) as refused:
            use(refresh=raw)
        assert type(refused.value) is error
        assert refused.value.message == message


def test_a_refresh_token_of_a_deactivated_account_is_refused(alice):
    pair = services.auth_login(request=None, username="alice", password=PASSWORD)
    alice.is_active = False
    alice.save()  # not through user_update_status, which would revoke the token too

    with pytest.raises(services.AccountInactive) as refused:
        services.auth_refresh(refresh=pair.refresh)

    assert refused.value.message == "The account is inactive or does not exist."


def test_deactivation_revokes_every_refresh_token_of_the_account(alice):
    pairs = [
        services.auth_login(request=None, username="alice", password=PASSWORD) for _ in range(2)
    ]

    services.user_update_status(user=alice, is_active=False, is_staff=None)

    for pair in pairs:
        with pytest.raises(services.RefreshTokenRevoked):
            services.auth_refresh(refresh=pair.refresh)


@pytest.mark.parametrize(
    ("changes", "details"),
    [
        ({"scopes": ["users:read", "root"]}, {"scopes": ["Unknown scopes: root."]}),
        ({"secret": "too-short"}, {"secret": ["Use at least 16 characters."]}),
        ({"secret": None}, {"secret": ["A new service client needs a secret."]}),
        (
            {"client_id": "not a slug"},
            {
                "client_id": [
                    "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
                ]
            },
        ),
    ],
)
def test_a_service_client_is_refused_with_the_fields_at_fault(changes, details):
    arguments = {"client_id": "orders", "scopes": ["users:read"], "secret": SECRET, **changes}

    with pytest.raises(InvalidInput) as refused:
        services.service_client_ensure(**arguments)

    assert refused.value.details == details
    assert not ServiceClient.objects.exists()


def test_ensuring_a_service_client_without_a_secret_keeps_its_secret():
    services.service_client_ensure(client_id="orders", scopes=["users:read"], secret=SECRET)

    client = services.service_client_ensure(
        client_id="orders", scopes=["stock:reserve"], secret=None, is_active=False
    )

    client.refresh_from_db()
    assert client.check_secret(SECRET)
    assert (client.scope_list, client.is_active) == (["stock:reserve"], False)


def test_a_service_token_names_its_lifetime_and_scopes():
    services.service_client_ensure(
        client_id="orders", scopes=["users:read", "stock:reserve"], secret=SECRET
    )

    token = services.service_token_issue(client_id="orders", client_secret=SECRET)

    assert (token.token_type, token.expires_in, token.scope) == (
        "Bearer",
        300,
        "stock:reserve users:read",
    )


@pytest.mark.parametrize(("client_id", "secret"), [("orders", "wrong-secret-xxxx"), ("x", SECRET)])
def test_wrong_client_credentials_are_invalid_client_credentials(client_id, secret):
    services.service_client_ensure(client_id="orders", scopes=["users:read"], secret=SECRET)

    with pytest.raises(services.InvalidClientCredentials) as refused:
        services.service_token_issue(client_id=client_id, client_secret=secret)

    assert refused.value.message == "Unknown client or wrong secret."
