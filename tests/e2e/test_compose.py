"""compose.yaml as a new user runs it: every secret from .env.example, and each container's
health check answered 200 by its service on production settings.

No Docker engine here: each service runs from its folder with the environment its
container gets (the Dockerfile's ENV, then compose's), its database pointed at a
scratch one; the entry point prepares it, then the health check's own command is run
against it (tests/containers.py).
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

from containers import REPO, compose, env_example, image_environment, interpolate
from souk_common.keys import SigningKey
from stack import drop_postgres_database, ensure_postgres_database, scratch_database_urls

SERVICES = compose()["services"]
HTTP_CHECKED = [
    name
    for name, spec in SERVICES.items()
    if not spec.get("healthcheck", {}).get("disable")
    and "http://" in " ".join(spec.get("healthcheck", {}).get("test", []))
]


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


@pytest.mark.parametrize("name", HTTP_CHECKED)
def test_the_health_check_is_answered_200_on_production_settings(
    name, dot_env, on_postgres, tmp_path
):
    spec = SERVICES[name]
    service = spec["build"]["args"]["SERVICE"]
    env = image_environment(spec["build"]["args"])
    environment = spec["environment"]
    env.update({key: interpolate(str(value), dot_env) for key, value in environment.items()})
    assert env["SOUK_ENV"] == "production"
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    if on_postgres:
        database_url = scratch_database_urls("compose")[service]
        ensure_postgres_database(database_url)
    env.update({key: database_url for key in env if key.endswith("_DATABASE_URL")})
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    folder = REPO / "services" / service
    try:
        prepared = subprocess.run(
            ["sh", str(REPO / "docker" / "entrypoint.sh"), "prepare"],
            cwd=folder, env=env, capture_output=True, text=True, timeout=120,
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
