"""Every kind of forged token is refused by this service's views."""

import pytest

from souk_common.testing import FORGED_TOKEN_KINDS
from tests.conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", FORGED_TOKEN_KINDS)
def test_forged_tokens_are_401(api, alice, token_factory, kind):
    token = token_factory.forged(kind, user_id=alice.pk)

    response = api.get("/api/users/me/", **bearer(token))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="souk"'


def test_a_genuine_token_for_the_same_user_works(api, alice, token_factory):
    token = token_factory.access(user_id=alice.pk, username="alice")

    assert api.get("/api/users/me/", **bearer(token)).status_code == 200
