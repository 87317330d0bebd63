"""Real processes for the gateway's tests: upstream servers, and the gateway itself."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
SERVICE_DIR = HERE.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def http_json(method: str, url: str) -> object:
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


# Every upstream the gateway's settings name; the tests give each a fake (upstream_server.py).
UPSTREAMS = ("users", "products", "orders", "cart", "payments", "shipping")


class Upstream:
    """``upstream_server.py`` as a process: it records what reaches it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "upstream_server.py"), self.name, str(self.port)],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def received(self) -> list[dict]:
        return http_json("GET", f"{self.url}/__received")  # type: ignore[return-value]

    def forget(self) -> None:
        http_json("DELETE", f"{self.url}/__received")

    def set_ready(self, status: int) -> None:
        http_json("POST", f"{self.url}/__ready/{status}")

    def set_schema_status(self, status: int) -> None:
        http_json("POST", f"{self.url}/__schema/{status}")

    def schema_asked(self) -> int:
        return int(http_json("GET", f"{self.url}/__schema_asked")["asked"])  # type: ignore[index]

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.resume()
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class GatewayProcess:
    """The gateway's public listener as it runs for real (``python -m gateway_service.serve``),
    with its own migrated SQLite database."""

    def __init__(self, workdir: Path, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {**base_environment(workdir), **env}
        self.log_path = workdir / "gateway.log"
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gateway_service.serve",
                "--port", str(self.port), "--workers", str(workers),
            ],
            cwd=SERVICE_DIR,
            env=self.env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_for_port(self.port)

    @classmethod
    def migrated_database(cls, workdir: Path, template: Path) -> Path:
        """A copy of the migrated template database for one gateway."""
        database = workdir / "gateway.sqlite3"
        shutil.copy(template, database)
        return database

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=20)


def base_environment(directory: Path) -> dict[str, str]:
    """This environment, but the gateway's own settings (pytest set the test settings)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gateway_service.settings",
        "SOUK_ENV": "development",
        "SOUK_VAR_DIR": str(directory),
    }


def migrate(database_url: str, directory: Path) -> None:
    """Migrate a gateway database and create its cache table."""
    env = {**base_environment(directory), "GATEWAY_DATABASE_URL": database_url}
    for command in (["migrate", "--no-input", "-v0"], ["createcachetable"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=SERVICE_DIR, env=env, check=True
        )


def migrate_template(directory: Path) -> Path:
    """Migrate one SQLite database that each gateway under test starts from."""
    database = directory / "template.sqlite3"
    migrate(f"sqlite:///{database}", directory)
    return database


def _postgres(url: str) -> tuple[str, object]:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    connection = psycopg.connect(
        dbname="postgres",
        user=parts.username or None,
        host=parts.hostname or None,
        port=parts.port or None,
        autocommit=True,
    )
    return parts.path.lstrip("/"), (connection, sql)


def create_postgres_database(url: str) -> None:
    name, (connection, sql) = _postgres(url)
    with connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_postgres_database(url: str) -> None:
    name, (connection, sql) = _postgres(url)
    with connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
