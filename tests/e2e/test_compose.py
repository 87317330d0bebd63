"""compose.yaml as a new user runs it: every secret from .env.example, each container's
health check answered 200 by its service on production settings, and a relay for every
service that publishes events, a consumer for every one that consumes them.

No Docker engine here: each service runs with the environment its container gets (the
Dockerfile's ENV, then compose's), its database pointed at a scratch one; the entry
point, started where the image starts it, finds the service SOUK_SERVICE names and
prepares it, then the health check's own command is run against it (tests/containers.py).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from containers import REPO, compose, env_example, image_environment, image_workdir, interpolate
from souk_common.keys import SigningKey
from stack import (
    CONSUMERS,
    RELAYS,
    STOREFRONT,
    drop_postgres_database,
    ensure_postgres_database,
    scratch_database_urls,
)

SERVICES = compose()["services"]
HTTP_CHECKED = [
    name
    for name, spec in SERVICES.items()
    if not spec.get("healthcheck", {}).get("disable")
    and "http://" in " ".join(spec.get("healthcheck", {}).get("test", []))
]
# The containers of the services (all of them from the one image), by the service each runs.
SERVICE_OF = {
    name: spec["environment"]["SOUK_SERVICE"]
    for name, spec in SERVICES.items()
    if "SOUK_SERVICE" in spec.get("environment", {})
}
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"
# Containers that run one of a service's manage.py commands instead of serving it.
COMMANDS = [name for name, spec in SERVICES.items() if spec.get("command", [None])[0] == "manage"]
EVENT_PROCESSES = {
    **{f"{service}-relay": (service, "relay_events") for service in RELAYS},
    **{f"{service}-consumer": (service, "consume_events") for service in CONSUMERS},
}


@pytest.fixture(scope="module")
def dot_env() -> dict[str, str]:
    """A .env made from .env.example as its comments say: every blank filled in."""
    values = {name: value or secrets.token_urlsafe(32) for name, value in env_example().items()}
    values["JWT_PRIVATE_KEY"] = SigningKey.generate().to_pem().replace("\n", "\\n")
    return values


def strings(tree: Any) -> list[str]:
    if isinstance(tree, dict):
        return [text for key, value in tree.items() for text in strings(key) + strings(value)]
    if isinstance(tree, list):
        return [text for value in tree for text in strings(value)]
    return [tree] if isinstance(tree, str) else []


def test_every_variable_compose_needs_is_in_env_example(dot_env):
    for text in strings(compose()):
        interpolate(text, dot_env)  # KeyError names a variable .env.example lacks


def test_some_services_have_http_health_checks():
    assert {"users", "products", "orders", "gateway"} <= set(HTTP_CHECKED)


def container_environment(spec: dict[str, Any], dot_env: dict[str, str]) -> dict[str, str]:
    """What a container's process sees: the image's ENV, then compose's, interpolated."""
    env = image_environment()
    env.update(
        {key: interpolate(str(value), dot_env) for key, value in spec["environment"].items()}
    )
    return env


def test_rabbitmq_is_healthy_once_it_answers_a_ping():
    rabbitmq = SERVICES["rabbitmq"]

    assert rabbitmq["healthcheck"]["test"] == ["CMD", "rabbitmq-diagnostics", "-q", "ping"]


def test_redis_keeps_the_carts_across_a_restart_and_never_evicts_one():
    redis = SERVICES["redis"]
    command = redis["command"]

    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert "redis:/data" in redis["volumes"]
    assert SERVICES["cart"]["environment"]["REDIS_URL"].startswith("redis://redis:6379/")


@pytest.mark.parametrize("name", sorted(EVENT_PROCESSES))
def test_every_relay_and_consumer_runs_its_command_once_its_service_and_rabbitmq_are_up(name):
    service, command = EVENT_PROCESSES[name]
    spec = SERVICES[name]

    assert SERVICE_OF[name] == service
    assert spec["command"] == ["manage", command]
    # Its service's container migrated the database it reads; the broker answers pings.
    assert spec["depends_on"] == {
        service: {"condition": "service_healthy"},
        "rabbitmq": {"condition": "service_healthy"},
    }
    # No port to probe; a relay or consumer that ends is restarted (restart: unless-stopped),
    # and one that loses the broker or its database reconnects by itself.
    assert spec["healthcheck"] == {"disable": True}
    assert spec["restart"] == "unless-stopped"


def test_every_process_of_a_service_with_events_has_the_one_broker(dot_env):
    expected = f"amqp://souk:{dot_env['RABBITMQ_PASSWORD']}@rabbitmq:5672//"
    services = set(RELAYS) | set(CONSUMERS)
    containers = [name for name, service in SERVICE_OF.items() if service in services]

    brokers = {
        name: container_environment(SERVICES[name], dot_env).get("BROKER_URL")
        for name in containers
    }

    assert brokers == dict.fromkeys(containers, expected)
    assert {"users-relay", "orders-relay", "notifications-consumer"} <= set(containers)


def test_every_service_but_users_finds_users_where_staff_sign_in(dot_env):
    # The storefront has no admin (and no database): nobody signs in to it as staff.
    servers = [name for name in SERVICE_OF if name not in COMMANDS and name != STOREFRONT]
    others = [name for name in servers if SERVICE_OF[name] != "users"]

    found = {
        name: container_environment(SERVICES[name], dot_env).get("USERS_URL") for name in others
    }

    assert found == dict.fromkeys(others, "http://users:8000")
    assert {"cart", "shipping", "gateway", "gateway-admin"} <= set(others)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_container_loads_its_settings_on_production(name, dot_env, tmp_path):
    # Production refuses to start without what its settings require: a relay or a
    # consumer given too little would restart forever, never having run.
    spec = SERVICES[name]
    env = container_environment(spec, dot_env)
    assert env["SOUK_ENV"] == "production"
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env.update({key: database_url for key in env if key.endswith("_DATABASE_URL")})
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"

    # As the container runs it: the entry point, from the image's working directory.
    checked = subprocess.run(
        ["sh", str(ENTRYPOINT), "manage", "check"],
        cwd=image_workdir(), env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("name", HTTP_CHECKED)
def test_the_health_check_is_answered_200_on_production_settings(
    name, dot_env, on_postgres, tmp_path
):
    spec = SERVICES[name]
    service = SERVICE_OF[name]
    env = container_environment(spec, dot_env)
    assert env["SOUK_ENV"] == "production"
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    on_postgres = on_postgres and service != STOREFRONT  # it has no database
    if on_postgres:
        database_url = scratch_database_urls("compose")[service]
        ensure_postgres_database(database_url)
    env.update({key: database_url for key in env if key.endswith("_DATABASE_URL")})
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    folder = REPO / "services" / service
    try:
        prepared = subprocess.run(
            ["sh", str(ENTRYPOINT), "prepare"],
            cwd=image_workdir(), env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert prepared.returncode == 0, prepared.stdout + prepared.stderr

        checked = subprocess.run(
            [sys.executable, str(REPO / "tests" / "containers.py"), "healthcheck",
             json.dumps(spec["healthcheck"]["test"])],
            cwd=folder, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        if on_postgres:
            drop_postgres_database(database_url)

    assert checked.returncode == 0, checked.stderr
    outcome = json.loads(checked.stdout.splitlines()[-1])
    statuses = [(request["path"], request["status"]) for request in outcome["requests"]]
    assert statuses == [("/health/ready", 200)], checked.stderr
    assert outcome["exit"] == 0, checked.stderr
