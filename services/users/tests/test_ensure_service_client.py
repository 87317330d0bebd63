"""The ensure_service_client command: a service client made or updated from the command line."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import ServiceClient

pytestmark = pytest.mark.django_db

SECRET = "a-long-enough-service-secret"


@pytest.fixture(autouse=True)
def _secret_in_the_environment(monkeypatch):
    monkeypatch.setenv("ORDERS_SECRET", SECRET)


def ensure(*scopes, client_id="orders", source=("--secret-env", "ORDERS_SECRET")):
    call_command("ensure_service_client", client_id, "--scopes", *scopes, *source)
    return ServiceClient.objects.get(client_id=client_id)


def test_the_command_stores_the_secret_hashed():
    client = ensure("users:read", "stock:reserve")

    assert SECRET not in client.secret_hash
    assert client.check_secret(SECRET)
    assert client.scope_list == ["stock:reserve", "users:read"]


def test_the_secret_may_come_from_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(f"{SECRET}\n")

    client = ensure("users:read", source=("--secret-file", str(secret_file)))

    assert client.check_secret(SECRET)


def test_the_command_is_idempotent_and_updates_scopes():
    ensure("users:read", "stock:reserve")

    client = ensure("users:read")

    assert ServiceClient.objects.count() == 1
    assert client.scope_list == ["users:read"]
    assert client.check_secret(SECRET)


def test_the_command_reactivates_a_client():
    ServiceClient.objects.filter(pk=ensure("users:read").pk).update(is_active=False)

    assert ensure("users:read").is_active


@pytest.mark.parametrize(
    ("scopes", "secret", "refusal"),
    [
        (["everything"], SECRET, "scopes: Unknown scopes: everything."),
        (["users:read"], "too-short", "secret: Use at least 16 characters."),
        (["users:read"], "", "the secret is empty"),
    ],
)
def test_the_command_refuses_what_the_service_refuses(monkeypatch, scopes, secret, refusal):
    monkeypatch.setenv("ORDERS_SECRET", secret)

    with pytest.raises(CommandError) as refused:
        ensure(*scopes)

    assert str(refused.value) == refusal
    assert not ServiceClient.objects.exists()
