"""Fixtures of the gateway's tests: real upstream processes, and gateways in front of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from souk_common.testing import TokenFactory, signing_key_for_tests
from tests.processes import UPSTREAMS, GatewayProcess, Upstream, migrate_template


@pytest.fixture(scope="session")
def upstreams() -> Iterator[dict[str, Upstream]]:
    servers = {name: Upstream(name) for name in UPSTREAMS}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrate_template(tmp_path_factory.mktemp("gateway-template"))


@pytest.fixture(scope="session")
def start_gateway(
    upstreams: dict[str, Upstream],
    database_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., GatewayProcess]]:
    """Start a gateway process with these settings (environment variables)."""
    started: list[GatewayProcess] = []

    def start(
        workers: int = 2, share_with: GatewayProcess | None = None, **env: str
    ) -> GatewayProcess:
        workdir = tmp_path_factory.mktemp("gateway")
        database = (
            share_with.workdir / "gateway.sqlite3"
            if share_with is not None
            else GatewayProcess.migrated_database(workdir, database_template)
        )
        settings = {
            "GATEWAY_DATABASE_URL": f"sqlite:///{database}",
            **{f"{name.upper()}_URL": upstream.url for name, upstream in upstreams.items()},
            "JWT_JWKS_URL": "",
            "JWT_PUBLIC_KEYS": signing_key_for_tests().public.to_pem().replace("\n", "\\n"),
            "GATEWAY_RATE_PER_ADDRESS": "100000/min",
            "GATEWAY_RATE_PER_USER": "100000/min",
            "GATEWAY_SIGN_IN_RATE_PER_ADDRESS": "100000/min",
            "GATEWAY_PAGES_RATE_PER_ADDRESS": "100000/min",
            "GATEWAY_ROUTES_REFRESH_SECONDS": "0.5",
            **env,
        }
        gateway = GatewayProcess(workdir, settings, workers=workers)
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture(scope="session")
def gateway(start_gateway: Callable[..., GatewayProcess]) -> GatewayProcess:
    """A gateway with generous limits, shared by the tests that do not change its settings."""
    return start_gateway()


@pytest.fixture
def products(upstreams: dict[str, Upstream]) -> Upstream:
    upstreams["products"].forget()
    return upstreams["products"]


@pytest.fixture
def http() -> requests.Session:
    return requests.Session()


@pytest.fixture(scope="session")
def tokens() -> TokenFactory:
    return TokenFactory()


@pytest.fixture
def postgres_database(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one gateway, dropped afterwards."""
    import uuid

    from souk_common.testing import postgres_url
    from tests.processes import create_postgres_database, drop_postgres_database, migrate

    url = f"{postgres_url().rsplit('/', 1)[0]}/souk_gateway_test_{uuid.uuid4().hex[:8]}"
    create_postgres_database(url)
    try:
        migrate(url, tmp_path)
        yield url
    finally:
        drop_postgres_database(url)
