"""Service clients trade credentials for scoped tokens; internal reads need the scope."""

import jwt
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import ServiceClient
from souk_common.tokens import get_verifier
from tests.conftest import bearer

pytestmark = pytest.mark.django_db

SECRET = "a-long-enough-service-secret"


@pytest.fixture
def orders_client(monkeypatch):
    monkeypatch.setenv("ORDERS_SECRET", SECRET)
    call_command(
        "ensure_service_client",
        "orders",
        "--scopes",
        "users:read",
        "stock:reserve",
        "--secret-env",
        "ORDERS_SECRET",
    )
    return ServiceClient.objects.get(client_id="orders")


def service_token(api, client_id="orders", secret=SECRET):
    return api.post(
        "/internal/auth/token/",
        {"client_id": client_id, "client_secret": secret},
        format="json",
    )


def test_the_command_stores_the_secret_hashed(orders_client):
    assert SECRET not in orders_client.secret_hash
    assert orders_client.check_secret(SECRET)
    assert orders_client.scope_list == ["stock:reserve", "users:read"]


def test_the_command_is_idempotent_and_updates_scopes(orders_client, monkeypatch):
    call_command(
        "ensure_service_client", "orders", "--scopes", "users:read", "--secret-env", "ORDERS_SECRET"
    )

    assert ServiceClient.objects.count() == 1
    assert ServiceClient.objects.get().scope_list == ["users:read"]


def test_the_command_refuses_unknown_scopes(monkeypatch):
    monkeypatch.setenv("ORDERS_SECRET", SECRET)

    with pytest.raises(CommandError, match="Unknown scopes"):
        call_command(
            "ensure_service_client",
            "orders",
            "--scopes",
            "everything",
            "--secret-env",
            "ORDERS_SECRET",
        )


def test_valid_credentials_give_a_scoped_short_lived_service_token(api, orders_client):
    response = service_token(api)

    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 300
    assert body["scope"] == "stock:reserve users:read"
    claims = get_verifier().verify(body["access"])
    assert claims["token_type"] == "service"
    assert claims["sub"] == "orders"
    assert jwt.get_unverified_header(body["access"])["kid"]


@pytest.mark.parametrize(
    ("client_id", "secret"), [("orders", "wrong-secret-xxxxx"), ("nobody", SECRET)]
)
def test_wrong_credentials_are_401(api, orders_client, client_id, secret):
    response = service_token(api, client_id, secret)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_inactive_client_gets_no_token(api, orders_client):
    orders_client.is_active = False
    orders_client.save()

    assert service_token(api).status_code == 401


def test_internal_user_read_with_the_scope(api, alice, orders_client):
    token = service_token(api).json()["access"]

    response = api.get(f"/internal/users/{alice.pk}/", **bearer(token))

    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "is_active": True,
        "is_staff": False,
    }


def test_internal_user_read_shows_deactivation(api, alice, orders_client):
    alice.is_active = False
    alice.save()
    token = service_token(api).json()["access"]

    assert api.get(f"/internal/users/{alice.pk}/", **bearer(token)).json()["is_active"] is False


def test_internal_user_read_without_the_scope_is_403(api, alice, token_factory):
    token = token_factory.service(client_id="gateway", scopes=["stock:reserve"])

    assert api.get(f"/internal/users/{alice.pk}/", **bearer(token)).status_code == 403


def test_a_user_token_cannot_read_internal_users(api, alice, staff, login):
    token = login("root")["access"]

    assert api.get(f"/internal/users/{alice.pk}/", **bearer(token)).status_code == 403


def test_internal_user_read_without_a_token_is_401(api, alice):
    assert api.get(f"/internal/users/{alice.pk}/").status_code == 401
