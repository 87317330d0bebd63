"""System tests: the services, their relays and consumers as real processes, driven
through the gateway.

One stack per test session (``throwaway_stack``, tools/stack.py), on free ports, shared
by every suite the session runs (`nox -s system` runs e2e, faults and fuzz on one).
PostgreSQL (fresh databases, dropped afterwards) when it answers, as the contract asks;
SQLite files otherwise, said loudly, with the PostgreSQL-only tests skipped -- or
failed, with REQUIRE_POSTGRES=1. Events travel through RabbitMQ at ``RABBITMQ_URL``, in
a virtual host of the run's own (deleted afterwards) behind a proxy the tests can cut,
when it answers and ``rabbitmqctl`` can make the virtual host; through the embedded
broker otherwise, said loudly -- or failed, with REQUIRE_RABBITMQ=1. Mail goes to an
SMTP server in the test process (``system.smtp``). Carts and the gateway's rate limits
live in Redis when it answers (``redis_url``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis

from databases import postgres_problem, rabbitmq_problem, scratch_vhost
from harness import RunningStack
from souk_common.test_servers import OtlpReceiver, SmtpServer, TcpProxy
from souk_common.testing import postgres_required, postgres_url, rabbitmq_required
from stack import throwaway_stack

# What the suites need of the stack, set once for all of them since they share it.
SYSTEM_ENVIRONMENT = {
    # Many sign-ins from one address is what a test suite does.
    "LOGIN_RATE_PER_ADDRESS": "10000/min",
    "LOGIN_RATE_PER_USERNAME": "10000/min",
    "GATEWAY_SIGN_IN_RATE_PER_ADDRESS": "10000/min",
    # Password resets timed by the dozen for one address (tests/e2e/test_password_reset.py).
    "PASSWORD_RESET_RATE_PER_ADDRESS": "10000/min",
    "PASSWORD_RESET_RATE_PER_EMAIL": "10000/min",
    "GATEWAY_ACCOUNT_LINKS_RATE_PER_ADDRESS": "10000/min",
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
    # A checkout with no payment outcome is cancelled after 45 s, not 15 minutes: once
    # payments has given up on a provider that stays down (5 tries over 30 s), as
    # tests/e2e/test_checkout.py expects.
    "CHECKOUT_PAYMENT_TIMEOUT": "45",
    # A storefront of another origin calls the API from browsers (test_web_conventions).
    "GATEWAY_CORS_ORIGINS": "https://shop.example",
    # Spans leave every process within a fifth of a second (tests/e2e/test_traces.py).
    "OTEL_BSP_SCHEDULE_DELAY": "200",
    # A tenth of the traces the gateway starts are recorded, as a busy shop would sample
    # them, and every trace a test asks for with a sampled traceparent: the suite's timed
    # tests (tests/e2e/test_edge.py) measure the shop, not the exporting of every span.
    "OTEL_TRACES_SAMPLER_ARG": "0.1",
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
def rabbitmq_vhost() -> Iterator[str | None]:
    """The URL of the run's own virtual host on RabbitMQ, or None: the embedded broker."""
    problem = rabbitmq_problem()
    if problem is not None:
        if rabbitmq_required():
            pytest.fail(f"REQUIRE_RABBITMQ=1 but {problem}")
        print(f"\n!!! {problem}; events travel through the embedded broker.\n")
        yield None
        return
    with scratch_vhost("e2e") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    """Redis for the stack's carts and the gateway's rate limits (``SYSTEM_TEST_REDIS_URL``,
    default database 12 of the local server), or None: the embedded stores, said loudly --
    or failed, with REQUIRE_REDIS=1."""
    url = os.environ.get("SYSTEM_TEST_REDIS_URL") or "redis://127.0.0.1:6379/12"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("REQUIRE_REDIS", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"REQUIRE_REDIS=1 but Redis at {url} does not answer: {exc}")
        print(f"\n!!! Redis at {url} does not answer ({exc}); carts stay in the database.\n")
        return None
    return url


@pytest.fixture(scope="session")
def broker_proxy(rabbitmq_vhost: str | None) -> Iterator[TcpProxy | None]:
    """A proxy every process reaches RabbitMQ through, so a test can cut the connection."""
    if rabbitmq_vhost is None:
        yield None
        return
    server = urlsplit(rabbitmq_vhost)
    with TcpProxy(server.hostname or "127.0.0.1", server.port or 5672) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """The mail server every process sends through (EMAIL_URL); ``smtp.mail`` has what arrived."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def otlp() -> Iterator[OtlpReceiver]:
    """The collector every process exports its spans to; ``otlp.spans`` has what arrived.

    The whole suite runs traced, as a shop with tracing on would (a tenth of new traces
    recorded): every other test is also a test that tracing changes nothing a client
    sees."""
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def system(
    tmp_path_factory: pytest.TempPathFactory,
    on_postgres: bool,
    rabbitmq_vhost: str | None,
    broker_proxy: TcpProxy | None,
    smtp: SmtpServer,
    otlp: OtlpReceiver,
    redis_url: str | None,
) -> Iterator[RunningStack]:
    environment = {
        **SYSTEM_ENVIRONMENT,
        "EMAIL_URL": smtp.url,
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url,
    }
    if redis_url is not None:
        # Carts in Redis as in production, under keys of this run's own.
        run = uuid.uuid4().hex[:8]
        environment |= {"REDIS_URL": redis_url, "CART_REDIS_KEY_PREFIX": f"souk:e2e:{run}:cart:"}
    broker_url = None
    if rabbitmq_vhost is not None and broker_proxy is not None:
        server = urlsplit(rabbitmq_vhost)
        credentials = server.netloc.rpartition("@")[0]
        proxied = f"{credentials}@127.0.0.1:{broker_proxy.port}".lstrip("@")
        broker_url = server._replace(netloc=proxied).geturl()
    with throwaway_stack(
        tmp_path_factory.mktemp("stack"),
        purpose="e2e",
        postgres=on_postgres,
        broker_url=broker_url,
        extra_env=environment,
        running=RunningStack,
    ) as system:
        system.smtp = smtp
        system.otlp = otlp
        system.broker_proxy = broker_proxy
        yield system
