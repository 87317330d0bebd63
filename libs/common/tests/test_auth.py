"""Stateless token verification: real RS256 tokens in, every forgery out."""

import base64
import json
import threading
import time

import jwt
import pytest
from django.test import Client

from souk_common import tokens
from souk_common.jwks import JwksKeySet, StaticKeySet
from souk_common.keys import SigningKey
from souk_common.testing import (
    FORGED_TOKEN_KINDS,
    TokenFactory,
    jwks_document,
)
from souk_common.tokens import InvalidToken, Principal, TokenVerifier

JWKS_PATH = "/api/auth/jwks.json"


def get(path, token=None, method="get"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return getattr(Client(), method)(path, **headers)


def test_a_valid_access_token_names_the_user(token_factory):
    response = get("/whoami/", token_factory.access(user_id=7, username="bob"))

    assert response.status_code == 200
    assert response.json() == {"user_id": 7, "username": "bob"}


@pytest.mark.parametrize("kind", FORGED_TOKEN_KINDS)
def test_every_forged_token_is_refused_with_401(token_factory, kind):
    response = get("/whoami/", token_factory.forged(kind))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="souk"'


@pytest.mark.parametrize("header", ["Token abc", "Bearer", "Bearer a b", "Basic dXNlcjpwdw=="])
def test_malformed_authorization_headers_are_refused(header):
    response = Client().get("/whoami/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401


def test_no_token_is_401_on_a_protected_view():
    response = Client().get("/whoami/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_staff_only_refuses_a_user_and_admits_staff(token_factory, users_service):
    users_service.staff.add(1)  # the tokens' holder

    assert get("/staff-only/", token_factory.access(is_staff=False)).status_code == 403
    assert get("/staff-only/", token_factory.access(is_staff=True)).status_code == 200


def test_scope_is_required_for_internal_views(token_factory):
    with_scope = token_factory.service(scopes=["stock:reserve"])
    without = token_factory.service(scopes=["users:read"])

    assert get("/reserve/", with_scope, "post").status_code == 200
    assert get("/reserve/", with_scope, "post").json() == {"client_id": "orders"}
    assert get("/reserve/", without, "post").status_code == 403
    assert get("/reserve/", token_factory.access(is_staff=True), "post").status_code == 403


def test_a_service_token_is_not_a_user(token_factory):
    response = get("/whoami/", token_factory.service(scopes=["stock:reserve"]))

    assert response.status_code == 403


def test_principal_from_service_claims():
    principal = Principal.from_claims({"token_type": "service", "sub": "orders", "scope": "a b"})

    assert principal.is_service
    assert principal.scopes == {"a", "b"}
    assert principal.pk == "orders"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def users(fake_service):
    """The users service, publishing its JWK Set at JWKS_PATH."""
    return fake_service()


def test_jwks_keys_are_fetched_once_and_cached(clock, users):
    key = SigningKey.generate()
    users.add("GET", JWKS_PATH, json=jwks_document(key.public))
    keys = JwksKeySet(users.url + JWKS_PATH, clock=clock)

    assert keys.get(key.kid) is not None
    assert keys.get(key.kid) is not None
    assert len(users.calls) == 1


def test_jwks_rotation_a_new_kid_triggers_a_refetch_and_old_tokens_still_verify(clock, users):
    old, new = SigningKey.generate(), SigningKey.generate()
    users.add("GET", JWKS_PATH, json=jwks_document(old.public))
    verifier = TokenVerifier(
        JwksKeySet(users.url + JWKS_PATH, clock=clock, min_refresh_seconds=5),
        issuer="souk-users",
        audience="souk",
    )
    old_token = TokenFactory(old).access()
    verifier.verify(old_token)

    # The users service starts signing with a new key, publishing both.
    users.replace("GET", JWKS_PATH, json=jwks_document(new.public, old.public))
    clock.now += 6
    assert verifier.verify(TokenFactory(new).access())["token_type"] == "access"
    assert verifier.verify(old_token)["token_type"] == "access"
    assert len(users.calls) == 2


def test_unknown_kids_cannot_make_us_hammer_the_users_service(clock, users):
    key = SigningKey.generate()
    users.add("GET", JWKS_PATH, json=jwks_document(key.public))
    keys = JwksKeySet(users.url + JWKS_PATH, clock=clock, min_refresh_seconds=5)
    keys.get(key.kid)

    for _ in range(50):
        assert keys.get("random-kid") is None

    assert len(users.calls) == 1


def test_threads_that_need_a_key_at_once_fetch_the_key_set_once(clock, users):
    key = SigningKey.generate()

    def slow_jwks(request):
        time.sleep(0.05)
        return 200, {}, json.dumps(jwks_document(key.public))

    users.add_callback("GET", JWKS_PATH, slow_jwks)
    keys = JwksKeySet(users.url + JWKS_PATH, clock=clock)
    found = []
    threads = [threading.Thread(target=lambda: found.append(keys.get(key.kid))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(found) == 8
    assert None not in found
    assert len(users.calls) == 1


def test_a_failed_refresh_keeps_the_keys_we_have(clock, users):
    key = SigningKey.generate()
    users.add("GET", JWKS_PATH, json=jwks_document(key.public))
    keys = JwksKeySet(users.url + JWKS_PATH, clock=clock, cache_seconds=60)
    keys.get(key.kid)

    users.replace("GET", JWKS_PATH, status=503)
    clock.now += 61

    assert keys.get(key.kid) is not None


def test_jwks_entries_of_other_algorithms_are_ignored(clock, users):
    key = SigningKey.generate()
    jwk = {**key.public.to_jwk(), "alg": "RS512"}
    users.add("GET", JWKS_PATH, json={"keys": [jwk]})

    assert JwksKeySet(users.url + JWKS_PATH, clock=clock).get(key.kid) is None


def test_the_kid_in_a_jwks_entry_is_not_trusted(clock, users):
    key, other = SigningKey.generate(), SigningKey.generate()
    lying = {**key.public.to_jwk(), "kid": other.kid}  # claims to be the other key
    users.add("GET", JWKS_PATH, json={"keys": [lying]})
    keys = JwksKeySet(users.url + JWKS_PATH, clock=clock)

    assert keys.get(other.kid) is None  # a token signed by the other key finds nothing
    assert keys.get(key.kid) is not None  # the key is known by its own thumbprint


def test_keys_the_token_points_at_or_carries_are_never_fetched_or_used(clock, users):
    genuine, mallory = SigningKey.generate(), SigningKey.generate()
    users.add("GET", JWKS_PATH, json=jwks_document(genuine.public))
    verifier = TokenVerifier(
        JwksKeySet(users.url + JWKS_PATH, clock=clock), issuer="souk-users", audience="souk"
    )
    forged = TokenFactory(mallory).access(is_staff=True)
    elsewhere = "http://mallory.test/jwks.json"
    pointing = TokenFactory(mallory).encode(
        jwt_claims(forged),
        headers={"jku": elsewhere, "x5u": elsewhere, "jwk": mallory.public.to_jwk()},
    )

    with pytest.raises(InvalidToken, match="unknown signing key"):
        verifier.verify(pointing)
    assert [call.path for call in users.calls] == [JWKS_PATH]


def test_a_remembered_token_is_still_checked_for_its_type_and_its_expiry(token_factory):
    keys = StaticKeySet([token_factory.signing_key.public.to_pem()])
    verifier = TokenVerifier(keys, issuer=token_factory.issuer, audience=token_factory.audience)
    token = token_factory.access(lifetime=1)
    expires = jwt_claims(token)["exp"]
    assert verifier.verify(token)["token_type"] == "access"

    with pytest.raises(InvalidToken, match="wrong token type"):
        verifier.verify(token, token_types=["service"])
    while time.time() <= expires + 0.05:
        time.sleep(0.05)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


def test_only_a_token_that_passed_is_remembered_and_only_for_its_type(token_factory):
    keys = StaticKeySet([token_factory.signing_key.public.to_pem()])
    verifier = TokenVerifier(keys, issuer=token_factory.issuer, audience=token_factory.audience)
    access = token_factory.access()
    refresh = token_factory.encode(token_factory.claims("refresh", user_id=1))
    assert verifier.remembered(access) is None  # never seen: ask verify()

    verifier.verify(access)
    with pytest.raises(InvalidToken, match="wrong token type"):
        verifier.verify(refresh)

    assert verifier.remembered(access)["token_type"] == "access"
    assert verifier.remembered(refresh) is None  # its signature passed, its type did not
    assert verifier.remembered(access, token_types=["service"]) is None


def jwt_claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def test_verifier_needs_the_required_claims(token_factory):
    claims = token_factory.claims("access", user_id=1)
    del claims["jti"]
    verifier = tokens.get_verifier()

    with pytest.raises(InvalidToken, match="jti"):
        verifier.verify(token_factory.encode(claims))


@pytest.mark.parametrize("crit", [["exp"], ["b64"], [], "exp"])
def test_a_token_naming_any_critical_extension_is_refused(token_factory, crit):
    token = token_factory.encode(token_factory.claims("access", user_id=1), headers={"crit": crit})

    response = get("/whoami/", token)

    assert response.status_code == 401
    assert "critical" in response.json()["error"]["message"]


ODD_CLAIMS = {
    "exp as a numeric string": {"exp": str(int(time.time()) + 300)},
    "exp as a list": {"exp": []},
    "exp as an object": {"exp": {}},
    "exp as a boolean": {"exp": True},
    "exp past the year 9999": {"exp": 300_000_000_000},
    "exp beyond any integer": {"exp": 10**30},
    "iat as a list": {"iat": []},
    "nbf as a list": {"nbf": []},
    "nbf as a string": {"nbf": "now"},
    "jti as a list": {"jti": []},
    "jti as a number": {"jti": 5},
    "user_id as a word": {"user_id": "one"},
    "user_id in other digits": {"user_id": "²"},
    "user_id as a float": {"user_id": 1.5},
    "user_id as a boolean": {"user_id": True},
    "user_id beyond a bigint": {"user_id": 2**63},
}


@pytest.mark.parametrize("claims", ODD_CLAIMS.values(), ids=ODD_CLAIMS.keys())
def test_claims_of_an_odd_type_are_refused_never_a_crash(token_factory, claims):
    token = token_factory.encode({**token_factory.claims("access", user_id=1), **claims})
    client = Client(raise_request_exception=False)

    # Twice: the second time, a verifier that remembered the token would compare its exp.
    for _ in range(2):
        response = client.get("/whoami/", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


def signed_raw(token_factory, header, payload):
    """A token signed with the trusted key over exactly these bytes (not re-encoded JSON)."""
    return jwt.api_jws.encode(
        payload,
        token_factory.signing_key.key,
        algorithm="RS256",
        headers={"kid": token_factory.signing_key.kid, **header},
    )


@pytest.mark.parametrize(
    "odd_exp",
    ["1e400", "NaN", '1, "x": ' + "[" * 5_000 + "]" * 5_000],
    ids=["infinite exp", "exp not a number", "nested too deeply"],
)
def test_payloads_python_reads_oddly_are_refused(token_factory, odd_exp):
    claims = token_factory.claims("access", user_id=1, exp="EXP")
    payload = json.dumps(claims).replace('"EXP"', odd_exp).encode()
    token = signed_raw(token_factory, {}, payload)

    response = Client(raise_request_exception=False).get(
        "/whoami/", HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert response.status_code == 401


def test_a_header_nested_too_deeply_is_refused(token_factory):
    genuine = token_factory.access()
    _, payload, signature = genuine.split(".")
    header = base64.urlsafe_b64encode(b"[" * 3_000).rstrip(b"=").decode()

    response = Client(raise_request_exception=False).get(
        "/whoami/", HTTP_AUTHORIZATION=f"Bearer {header}.{payload}.{signature}"
    )

    assert response.status_code == 401


def test_settings_change_rebuilds_the_verifier(settings, token_factory):
    other = SigningKey.generate()
    token = TokenFactory(other).access()
    assert get("/whoami/", token).status_code == 401

    settings.SOUK = {"JWT_PUBLIC_KEYS": [other.public.to_pem()]}

    assert get("/whoami/", token).status_code == 200
