"""GET /api/auth/jwks.json: the keys that verify this service's tokens, through a rotation."""

import jwt
import pytest

from souk_common.keys import SigningKey
from souk_common.testing import signing_key_for_tests
from tests.conftest import bearer

pytestmark = pytest.mark.django_db


def test_jwks_publishes_the_signing_key(api):
    response = api.get("/api/auth/jwks.json")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    (key,) = response.json()["keys"]
    assert key["kid"] == signing_key_for_tests().kid
    assert key["alg"] == "RS256"
    assert key["kty"] == "RSA"
    assert "d" not in key


def test_key_rotation_old_and_new_keys_are_published_and_both_verify(api, alice, login, settings):
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
