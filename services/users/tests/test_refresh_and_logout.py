"""Sign-in, refresh rotation, logout, deactivation, throttling and the JWK Set."""

import warnings

import jwt
import pytest
from django.core.cache import CacheKeyWarning
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from souk_common.keys import PublicKey
from souk_common.testing import signing_key_for_tests
from tests.conftest import PASSWORD, bearer

pytestmark = pytest.mark.django_db

DOTLESS_I = "\N{LATIN SMALL LETTER DOTLESS I}"


def full_width(text):
    """``text`` in full-width letters, which NFKC turns back into ASCII."""
    return "".join(chr(ord(letter) + 0xFEE0) for letter in text)


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def test_sign_in_gives_rs256_tokens_with_a_kid(alice, login):
    pair = login("alice")

    header = jwt.get_unverified_header(pair["access"])
    assert header["alg"] == "RS256"
    assert header["kid"] == signing_key_for_tests().kid
    access = claims_of(pair["access"])
    assert access["token_type"] == "access"
    assert access["user_id"] == alice.pk
    assert access["username"] == "alice"
    assert access["is_staff"] is False
    assert (access["iss"], access["aud"]) == ("souk-users", "souk")
    assert access["exp"] - access["iat"] == 300
    assert access["jti"]
    assert claims_of(pair["refresh"])["token_type"] == "refresh"


def test_sign_in_ignores_username_case(alice, login):
    assert login("ALICE")["access"]


def test_wrong_password_is_401(api, alice):
    response = api.post(
        "/api/auth/token/", {"username": "alice", "password": "wrong"}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_refresh_rotates_and_the_old_refresh_token_dies(api, alice, login):
    first = login("alice")

    response = api.post("/api/auth/token/refresh/", {"refresh": first["refresh"]}, format="json")
    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"access", "refresh"}
    assert second["refresh"] != first["refresh"]

    again = api.post("/api/auth/token/refresh/", {"refresh": first["refresh"]}, format="json")
    assert again.status_code == 401
    assert (
        api.post(
            "/api/auth/token/refresh/", {"refresh": second["refresh"]}, format="json"
        ).status_code
        == 200
    )


def test_an_access_token_cannot_refresh(api, alice, login):
    pair = login("alice")

    response = api.post("/api/auth/token/refresh/", {"refresh": pair["access"]}, format="json")

    assert response.status_code == 401


def test_logout_kills_the_refresh_token(api, alice, login):
    pair = login("alice")

    response = api.post("/api/auth/logout/", {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 204
    assert BlacklistedToken.objects.count() == 1
    refreshed = api.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 401


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
    refresh = api.post("/api/auth/token/refresh/", {"refresh": user_pair["refresh"]}, format="json")
    assert refresh.status_code == 401
    assert api.get("/api/users/me/", **bearer(user_pair["access"])).status_code == 401


def test_a_refresh_token_revoked_by_deactivation_stays_dead_after_reactivation(
    api, alice, staff, login
):
    user_pair = login("alice")
    headers = bearer(login("root")["access"])
    api.patch(f"/api/users/{alice.pk}/", {"is_active": False}, format="json", **headers)
    api.patch(f"/api/users/{alice.pk}/", {"is_active": True}, format="json", **headers)

    response = api.post(
        "/api/auth/token/refresh/", {"refresh": user_pair["refresh"]}, format="json"
    )

    assert response.status_code == 401


def test_refresh_gives_claims_as_they_are_now(api, alice, login):
    pair = login("alice")
    alice.is_staff = True
    alice.save()

    response = api.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")

    assert claims_of(response.json()["access"])["is_staff"] is True


def test_sign_in_is_throttled_per_username(api, alice):
    attempts = [
        api.post("/api/auth/token/", {"username": "alice", "password": "wrong"}, format="json")
        for _ in range(6)
    ]

    assert [a.status_code for a in attempts] == [401] * 5 + [429]
    assert attempts[-1].json()["error"]["code"] == "rate_limited"
    assert int(attempts[-1]["Retry-After"]) > 0


def sign_in(api, username, password):
    return api.post("/api/auth/token/", {"username": username, "password": password}, format="json")


def without_request_id(response):
    error = response.json()["error"]
    return response.status_code, {key: value for key, value in error.items() if key != "request_id"}


@pytest.mark.postgres  # PostgreSQL's UPPER() is what matched these to "LIMIT" and "SAM"
@pytest.mark.parametrize(
    ("username", "look_alike"),
    [("limit", f"l{DOTLESS_I}mit"), ("sam", "\N{LATIN SMALL LETTER LONG S}am")],
)
def test_a_look_alike_username_is_refused_like_a_wrong_password(
    api, make_user, username, look_alike
):
    make_user(username)

    response = sign_in(api, look_alike, PASSWORD)

    assert response.status_code == 401
    assert without_request_id(response) == without_request_id(sign_in(api, username, "wrong"))


def test_every_spelling_of_one_username_shares_one_sign_in_budget(api, make_user):
    make_user("limit")
    spellings = ["limit", "LIMIT", full_width("limit"), full_width("L") + "imit", " limit"]

    codes = [sign_in(api, spelling, "wrong").status_code for spelling in spellings]

    assert codes == [401] * 5
    assert sign_in(api, "limit", PASSWORD).status_code == 429


def test_refused_non_ascii_attempts_are_counted_too(api, make_user):
    make_user("limit")

    codes = [sign_in(api, f"l{DOTLESS_I}mit", PASSWORD).status_code for _ in range(6)]

    assert codes == [401] * 5 + [429]


def test_a_username_of_any_length_is_counted_under_a_key_every_cache_accepts(api):
    with warnings.catch_warnings():
        # Django warns of keys some backends refuse (over 250 characters); the database
        # cache's column holds 255: such a key would be a 500 there.
        warnings.simplefilter("error", CacheKeyWarning)
        response = sign_in(api, "a" * 100_000, "wrong")

    assert response.status_code == 400  # too long to be a username, and counted


def test_sign_in_is_throttled_per_client_address(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_address": "3/min",
        },
    }
    codes = [
        api.post(
            "/api/auth/token/",
            {"username": f"user{n}", "password": "x"},
            format="json",
            REMOTE_ADDR="203.0.113.7",
        ).status_code
        for n in range(4)
    ]
    other_client = api.post(
        "/api/auth/token/",
        {"username": "user9", "password": "x"},
        format="json",
        REMOTE_ADDR="203.0.113.8",
    )

    assert codes == [401, 401, 401, 429]
    assert other_client.status_code == 401


def test_a_forged_forwarded_for_from_a_direct_client_does_not_escape_the_limit(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_address": "2/min",
        },
    }

    codes = [
        api.post(
            "/api/auth/token/",
            {"username": f"user{n}", "password": "x"},
            format="json",
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(3)
    ]

    assert codes == [401, 401, 429]


GATEWAY_SECRET = "the-secret-the-gateway-sends"


@pytest.fixture
def two_sign_ins_per_address(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_address": "2/min",
        },
    }
    settings.SOUK = {**settings.SOUK, "PROXY_SECRET": GATEWAY_SECRET}


def sign_ins_forwarded_for_three_clients(api, **headers):
    return [
        api.post(
            "/api/auth/token/",
            {"username": f"user{n}", "password": "x"},
            format="json",
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
            **headers,
        ).status_code
        for n in range(3)
    ]


def test_behind_the_gateway_each_client_has_its_own_count(api, two_sign_ins_per_address):
    codes = sign_ins_forwarded_for_three_clients(api, HTTP_X_SOUK_PROXY_SECRET=GATEWAY_SECRET)

    assert codes == [401, 401, 401]


@pytest.mark.parametrize("secret", [None, "", "a-guess"])
def test_a_local_process_is_not_the_gateway_without_its_secret(
    api, two_sign_ins_per_address, secret
):
    headers = {} if secret is None else {"HTTP_X_SOUK_PROXY_SECRET": secret}

    codes = sign_ins_forwarded_for_three_clients(api, **headers)

    assert codes == [401, 401, 429]  # all three counted against 127.0.0.1


def test_jwks_publishes_the_signing_key(api):
    response = api.get("/api/auth/jwks.json")

    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert key["kid"] == signing_key_for_tests().kid
    assert key["alg"] == "RS256"
    assert key["kty"] == "RSA"
    assert "d" not in key


def test_key_rotation_old_and_new_keys_are_published_and_both_verify(
    api, alice, login, settings, tmp_path
):
    from souk_common.keys import SigningKey

    old_pair = login("alice")
    old_key = signing_key_for_tests()
    new_key = SigningKey.generate()
    settings.JWT_SIGNING_KEY = new_key.to_pem()
    settings.JWT_PREVIOUS_PUBLIC_KEYS = [old_key.public.to_pem()]
    settings.SOUK = {
        **settings.SOUK,
        "JWT_PUBLIC_KEYS": [new_key.public.to_pem(), old_key.public.to_pem()],
    }

    kids = {key["kid"] for key in api.get("/api/auth/jwks.json").json()["keys"]}
    assert kids == {old_key.kid, new_key.kid}
    new_pair = api.post(
        "/api/auth/token/refresh/", {"refresh": old_pair["refresh"]}, format="json"
    ).json()
    assert jwt.get_unverified_header(new_pair["access"])["kid"] == new_key.kid
    assert api.get("/api/users/me/", **bearer(old_pair["access"])).status_code == 200
    assert api.get("/api/users/me/", **bearer(new_pair["access"])).status_code == 200
    assert PublicKey.from_pem(new_key.public.to_pem()).kid == new_key.kid


ODD_REFRESH_TOKENS = {
    "a critical extension": ({"crit": ["exp"]}, {}),
    "exp as a numeric string": ({}, {"exp": "99999999999"}),
    "exp as a list": ({}, {"exp": []}),
    "exp past the year 9999": ({}, {"exp": 300_000_000_000}),
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
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not BlacklistedToken.objects.exists()
