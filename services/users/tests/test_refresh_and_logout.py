"""POST /api/auth/token/refresh/ and /api/auth/logout/: a refresh token renews a pair once,
dies when logged out, and with its account's deactivation."""

import jwt
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import User
from souk_common.testing import run_concurrently
from tests.conftest import PASSWORD, bearer

pytestmark = pytest.mark.django_db


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def refresh(api, token):
    return api.post("/api/auth/token/refresh/", {"refresh": token}, format="json")


def test_refresh_rotates_and_the_old_refresh_token_dies(api, alice, login):
    first = login("alice")

    response = refresh(api, first["refresh"])
    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"access", "refresh"}
    assert second["refresh"] != first["refresh"]

    again = refresh(api, first["refresh"])
    assert again.status_code == 401
    assert again.json()["error"]["message"] == "Invalid refresh token: Token is blacklisted"
    assert refresh(api, second["refresh"]).status_code == 200


@pytest.mark.parametrize("kind", ["access", "service"])
def test_only_a_refresh_token_can_refresh(api, alice, login, token_factory, kind):
    token = login("alice")["access"] if kind == "access" else token_factory.service(scopes=[])

    response = refresh(api, token)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid refresh token: Token has wrong type"


def test_logout_kills_the_refresh_token(api, alice, login):
    pair = login("alice")

    response = api.post("/api/auth/logout/", {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 204
    assert BlacklistedToken.objects.count() == 1
    assert refresh(api, pair["refresh"]).status_code == 401
    twice = api.post("/api/auth/logout/", {"refresh": pair["refresh"]}, format="json")
    assert twice.status_code == 401


def test_a_deactivated_user_can_neither_sign_in_nor_refresh(api, alice, staff, login):
    user_pair = login("alice")
    staff_pair = login("root")

    response = api.patch(
        f"/api/users/{alice.pk}/",
        {"is_active": False},
        format="json",
        **bearer(staff_pair["access"]),
    )
    assert response.status_code == 200

    signin = api.post(
        "/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert signin.status_code == 401
    assert refresh(api, user_pair["refresh"]).status_code == 401
    assert api.get("/api/users/me/", **bearer(user_pair["access"])).status_code == 401


def test_a_refresh_token_revoked_by_deactivation_stays_dead_after_reactivation(
    api, alice, staff, login
):
    user_pair = login("alice")
    headers = bearer(login("root")["access"])
    api.patch(f"/api/users/{alice.pk}/", {"is_active": False}, format="json", **headers)
    api.patch(f"/api/users/{alice.pk}/", {"is_active": True}, format="json", **headers)

    response = refresh(api, user_pair["refresh"])

    assert response.status_code == 401


def test_a_refresh_token_of_an_account_deactivated_elsewhere_is_refused(api, alice, login):
    pair = login("alice")
    User.objects.filter(pk=alice.pk).update(is_active=False)  # its tokens not revoked

    response = refresh(api, pair["refresh"])

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "The account is inactive or does not exist."


def test_refresh_gives_claims_as_they_are_now(api, alice, login):
    pair = login("alice")
    alice.is_staff = True
    alice.save()

    response = refresh(api, pair["refresh"])

    assert claims_of(response.json()["access"])["is_staff"] is True


ODD_REFRESH_TOKENS = {
    "a critical extension": ({"crit": ["exp"]}, {}),
    "exp as a numeric string": ({}, {"exp": "99999999999"}),
    "exp as a list": ({}, {"exp": []}),
    "exp past the year 9999": ({}, {"exp": 300_000_000_000}),
    "expired": ({}, {"exp": 1_000_000_000}),
    "iat as an object": ({}, {"iat": {}}),
    "nbf as a list": ({}, {"nbf": []}),
    "user_id as a string": ({}, {"user_id": "x"}),
    "jti as a list": ({}, {"jti": []}),
    "jti longer than the column": ({}, {"jti": "x" * 256}),
}


@pytest.mark.parametrize("path", ["/api/auth/token/refresh/", "/api/auth/logout/"])
@pytest.mark.parametrize(
    ("header", "claims"), ODD_REFRESH_TOKENS.values(), ids=ODD_REFRESH_TOKENS.keys()
)
def test_a_refresh_token_with_an_odd_header_or_claim_is_401_never_a_crash(
    api, alice, login, token_factory, path, header, claims
):
    genuine = claims_of(login("alice")["refresh"])  # signed by the key token_factory holds
    token = token_factory.encode({**genuine, **claims}, headers=header)

    response = api.post(path, {"refresh": token}, format="json")

    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (
        "not_authenticated",
        "Invalid refresh token: Token is invalid",
    )
    assert not BlacklistedToken.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_succeed_once():
    User.objects.create_user(username="alice", email="alice@example.com", password=PASSWORD)
    pair = (
        APIClient()
        .post("/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
        .json()
    )

    statuses = run_concurrently(lambda _: refresh(APIClient(), pair["refresh"]).status_code, 10)

    assert sorted(statuses) == [200] + [401] * 9
