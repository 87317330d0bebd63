"""accounts.throttles: sign-in attempts counted per username and per client address, and
service-token requests per client id."""

import warnings

import pytest
from django.core.cache import CacheKeyWarning

from tests.conftest import PASSWORD
from tests.test_sign_in import DOTLESS_I, sign_in

pytestmark = pytest.mark.django_db

GATEWAY_SECRET = "the-secret-the-gateway-sends"


def full_width(text):
    """``text`` in full-width letters, which NFKC turns back into ASCII."""
    return "".join(chr(ord(letter) + 0xFEE0) for letter in text)


def test_sign_in_is_throttled_per_username(api, alice):
    attempts = [sign_in(api, "alice", "wrong") for _ in range(6)]

    assert [a.status_code for a in attempts] == [401] * 5 + [429]
    assert attempts[-1].json()["error"]["code"] == "rate_limited"
    assert int(attempts[-1]["Retry-After"]) > 0


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


def sign_in_from(api, address, n, **headers):
    """Sign-in attempt ``n`` (as ``user<n>``, so the per-username count stays apart)."""
    body = {"username": f"user{n}", "password": "x"}
    return api.post(
        "/api/auth/token/", body, format="json", REMOTE_ADDR=address, **headers
    ).status_code


def test_sign_in_is_throttled_per_client_address(api, rates):
    rates(login_address="3/min")

    codes = [sign_in_from(api, "203.0.113.7", n) for n in range(4)]
    other_client = sign_in_from(api, "203.0.113.8", 9)

    assert codes == [401, 401, 401, 429]
    assert other_client == 401


def test_a_forged_forwarded_for_from_a_direct_client_does_not_escape_the_limit(api, rates):
    rates(login_address="2/min")

    codes = [
        sign_in_from(api, "203.0.113.7", n, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        for n in range(3)
    ]

    assert codes == [401, 401, 429]


@pytest.fixture
def two_sign_ins_per_address(rates, settings):
    rates(login_address="2/min")
    settings.SOUK = {**settings.SOUK, "PROXY_SECRET": GATEWAY_SECRET}


def sign_ins_forwarded_for_three_clients(api, **headers):
    return [
        sign_in_from(api, "127.0.0.1", n, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}", **headers)
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


def test_service_tokens_are_throttled_per_client_id(api, rates, orders_client):
    rates(service_token="2/min")

    def ask(client_id):
        body = {"client_id": client_id, "client_secret": "wrong-secret-xxxxx"}
        return api.post("/internal/auth/token/", body, format="json").status_code

    codes = [ask("orders") for _ in range(3)]

    assert codes == [401, 401, 429]
    assert ask("products") == 401
