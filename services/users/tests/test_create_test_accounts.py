"""The create_test_accounts command: many accounts at once for tools, never in production."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User


def create(*args):
    out = StringIO()
    call_command("create_test_accounts", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_makes_the_accounts_and_prints_their_ids_in_name_order():
    ids = create("3", "--prefix", "load-")

    assert len(ids) == 3
    for n, user_id in enumerate(ids):
        account = User.objects.get(pk=user_id)
        assert account.username == f"load-{n}"
        assert account.email == f"load-{n}@example.com"
        assert account.is_active
        assert not account.is_staff
        assert not account.has_usable_password()
    assert User.objects.count() == 3


@pytest.mark.django_db
def test_refuses_outside_development(monkeypatch):
    monkeypatch.setenv("SOUK_ENV", "production")

    with pytest.raises(CommandError, match="SOUK_ENV=development"):
        create("3", "--prefix", "load-")
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("count", "prefix"),
    [("0", "load-"), ("2", "lo ad-"), ("2", "l\u043ead-"), ("2", "x" * 150)],
    ids=["no-accounts", "space", "cyrillic-o", "too-long"],
)
def test_refuses_what_would_not_be_a_valid_account(count, prefix):
    with pytest.raises(CommandError):
        create(count, "--prefix", prefix)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_refuses_names_taken_and_creates_none_of_them(make_user):
    make_user("load-1")

    with pytest.raises(CommandError, match="exist already"):
        create("3", "--prefix", "load-")
    assert list(User.objects.values_list("username", flat=True)) == ["load-1"]
