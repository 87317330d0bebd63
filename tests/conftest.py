"""System tests: the four services as real processes, driven through the gateway.

One stack per test session, on free ports. PostgreSQL (fresh databases, dropped
afterwards) when it answers, as the contract asks; SQLite files otherwise, said
loudly, with the PostgreSQL-only tests skipped -- or failed, with REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from harness import RunningStack
from souk_common.testing import postgres_error, postgres_required, postgres_url
from stack import (
    DEFAULT_PORTS,
    PROCESSES,
    Stack,
    drop_postgres_database,
    free_port,
    scratch_database_urls,
)


@pytest.fixture(scope="session")
def on_postgres() -> bool:
    error = postgres_error(postgres_url())
    if error is None:
        return True
    if postgres_required():
        pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL at {postgres_url()} is down: {error}")
    print(f"\n!!! PostgreSQL does not answer ({error}); the system tests run on SQLite.\n")
    return False


@pytest.fixture(scope="session")
def system_environment() -> dict[str, str]:
    """Settings of the whole test stack beyond the suite-wide ones (a suite may add some)."""
    return {}


@pytest.fixture(scope="session")
def system(
    tmp_path_factory: pytest.TempPathFactory, on_postgres: bool, system_environment: dict[str, str]
) -> Iterator[RunningStack]:
    var_dir = tmp_path_factory.mktemp("var")
    database_urls: dict[str, str] = {}
    if on_postgres:
        database_urls = scratch_database_urls("e2e")
    stack = Stack(
        var_dir=var_dir,
        ports={name: free_port() for name in DEFAULT_PORTS},
        database_urls=database_urls,
        extra_env={
            "DEMO_ADMIN_PASSWORD": secrets.token_urlsafe(12),
            # Many sign-ins from one address is what a test suite does.
            "LOGIN_RATE_PER_ADDRESS": "10000/min",
            "LOGIN_RATE_PER_USERNAME": "10000/min",
            "GATEWAY_SIGN_IN_RATE_PER_ADDRESS": "10000/min",
            "GATEWAY_RATE_PER_ADDRESS": "100000/min",
            # Polled hard on purpose (tests/faults/test_pages.py).
            "GATEWAY_PAGES_RATE_PER_ADDRESS": "1000000/min",
            # Reachable on purpose: test_error_codes makes one user exceed it.
            "GATEWAY_RATE_PER_USER": "300/min",
            # Recovery takes over an order left pending for 10 s, checking every second.
            "ORDERS_RECONCILE_GRACE_SECONDS": "10",
            "RECONCILE_EVERY": "1",
            **system_environment,
        },
    )
    running = RunningStack(stack, tmp_path_factory.mktemp("logs"))
    try:
        stack.prepare(admin_password=stack.extra_env["DEMO_ADMIN_PASSWORD"])
        for process in PROCESSES:
            running.start(process)
        yield running
    finally:
        running.stop_all()
        for url in database_urls.values():
            drop_postgres_database(url)
