"""pytest plugin (entry point ``souk``): says which database the tests use.

It adds the ``postgres`` marker, and on SQLite skips the tests so marked with a
reason that says why, and prints the database in the session header. Each test
starts with no account state or service token remembered from another.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres: only meaningful on PostgreSQL (concurrency, row locks)"
    )


def _database_vendor() -> str | None:
    try:
        from django.conf import settings

        if not settings.configured:
            return None
        from django.db import connection

        return connection.vendor
    except Exception:  # noqa: BLE001 - not a Django test run
        return None


def pytest_report_header(config: pytest.Config) -> str | None:
    vendor = _database_vendor()
    if vendor == "postgresql":
        from django.db import connection

        params = connection.settings_dict
        return f"database: PostgreSQL at {params.get('HOST')}:{params.get('PORT')}"
    if vendor == "sqlite":
        return (
            "database: SQLite -- PostgreSQL is NOT reachable; "
            "tests marked 'postgres' are SKIPPED (see POSTGRES_URL, REQUIRE_POSTGRES)"
        )
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    vendor = _database_vendor()
    if vendor is None or vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason=f"needs PostgreSQL (this run uses {vendor}: PostgreSQL did not answer)"
    )
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture
def token_factory() -> Any:
    """Mints RS256 tokens with the key the test settings trust (souk_common.testing)."""
    from souk_common.testing import TokenFactory

    return TokenFactory()


@pytest.fixture(autouse=True)
def _nothing_remembered_from_the_users_service() -> Iterator[None]:
    """Forget accounts' states and the service token (souk_common.accounts) around each test."""
    from souk_common import accounts

    accounts.reset()
    yield
    accounts.reset()


class ManualClock:
    """A clock that stands still until a test moves it: ``clock.now += 5``."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def account_clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """Account states are remembered (souk_common.accounts) on a clock the test moves."""
    from souk_common import accounts
    from souk_common.conf import souk_settings

    clock = ManualClock()
    directory = accounts.AccountDirectory(
        accounts.users_client(),
        cache_seconds=float(souk_settings.ACCOUNT_CACHE_SECONDS),
        clock=clock,
    )
    # Cached like the real one, so that accounts.reset() still works while it stands in.
    monkeypatch.setattr(accounts, "account_directory", functools.cache(lambda: directory))
    return clock
