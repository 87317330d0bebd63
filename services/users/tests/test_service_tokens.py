"""POST /internal/auth/token/: a service trades its client credentials for a scoped token."""

import jwt
import pytest

from souk_common.tokens import get_verifier
from tests.conftest import SERVICE_SECRET

pytestmark = pytest.mark.django_db


def service_token(api, client_id="orders", secret=SERVICE_SECRET):
    return api.post(
        "/internal/auth/token/",
        {"client_id": client_id, "client_secret": secret},
        format="json",
    )


def test_valid_credentials_give_a_scoped_short_lived_service_token(api, orders_client):
    response = service_token(api)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "stock:reserve users:read"
    claims = get_verifier().verify(body["access"])
    assert claims["token_type"] == "service"
    assert claims["sub"] == "orders"
    assert claims["scope"] == "stock:reserve users:read"
    assert claims["exp"] - claims["iat"] == 300
    assert jwt.get_unverified_header(body["access"])["kid"]


@pytest.mark.parametrize(
    ("client_id", "secret"), [("orders", "wrong-secret-xxxxx"), ("nobody", SERVICE_SECRET)]
)
def test_wrong_credentials_are_401(api, orders_client, client_id, secret):
    response = service_token(api, client_id, secret)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.json()["error"]["message"] == "Unknown client or wrong secret."
    assert response["WWW-Authenticate"] == 'Bearer realm="souk"'


def test_an_inactive_client_gets_no_token(api, orders_client):
    orders_client.is_active = False
    orders_client.save()

    assert service_token(api).status_code == 401
