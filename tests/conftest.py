"""System tests: the four services as real processes, driven through the gateway.

One stack per test session (``throwaway_stack``, tools/stack.py), on free ports, shared
by every suite the session runs (`nox -s system` runs e2e, faults and fuzz on one).
PostgreSQL (fresh databases, dropped afterwards) when it answers, as the contract asks;
SQLite files otherwise, said loudly, with the PostgreSQL-only tests skipped -- or
failed, with REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from databases import postgres_problem
from harness import RunningStack
from souk_common.testing import postgres_required, postgres_url
from stack import throwaway_stack

# What the suites need of the stack, set once for all of them since they share it.
SYSTEM_ENVIRONMENT = {
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
    # Short-lived service tokens, so a hang can span a renewal (tests/faults): orders and
    # products renew theirs with users every 5 s (half of 10).
    "SERVICE_TOKEN_SECONDS": "10",
}


@pytest.fixture(scope="session")
def on_postgres() -> bool:
    problem = postgres_problem()
    if problem is None:
        return True
    if postgres_required():
        pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL at {postgres_url()} is down: {problem}")
    print(f"\n!!! PostgreSQL does not answer ({problem}); the system tests run on SQLite.\n")
    return False


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory, on_postgres: bool) -> Iterator[RunningStack]:
    with throwaway_stack(
        tmp_path_factory.mktemp("stack"),
        purpose="e2e",
        postgres=on_postgres,
        extra_env=SYSTEM_ENVIRONMENT,
        running=RunningStack,
    ) as system:
        yield system
