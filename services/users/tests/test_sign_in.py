"""POST /api/auth/token/: sign-in with a username and a password, for a token pair."""

import jwt
import pytest

from souk_common.testing import signing_key_for_tests
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

DOTLESS_I = "\N{LATIN SMALL LETTER DOTLESS I}"


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def sign_in(api, username, password):
    return api.post("/api/auth/token/", {"username": username, "password": password}, format="json")


def without_request_id(response):
    error = response.json()["error"]
    return response.status_code, {key: value for key, value in error.items() if key != "request_id"}


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
    refresh = claims_of(pair["refresh"])
    assert refresh["token_type"] == "refresh"
    assert refresh["exp"] - refresh["iat"] == 86400
    assert refresh["jti"] != access["jti"]


def test_sign_in_records_when(alice, login):
    login("alice")

    alice.refresh_from_db()
    assert alice.last_login is not None


def test_sign_in_ignores_username_case(alice, login):
    assert claims_of(login("ALICE")["access"])["user_id"] == alice.pk


def test_wrong_password_is_401(api, alice):
    response = sign_in(api, "alice", "wrong")

    assert response.status_code == 401
    assert without_request_id(response)[1] == {
        "code": "not_authenticated",
        "message": "No active account found with the given credentials.",
        "details": {},
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="souk"'


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
