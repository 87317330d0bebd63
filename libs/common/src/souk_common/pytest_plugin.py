"""pytest plugin (entry point ``souk``): says which database the tests use.

It adds the ``postgres`` marker, and on SQLite skips the tests so marked with a
reason that says why, and prints the database in the session header.
"""

from __future__ import annotations

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
