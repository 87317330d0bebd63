"""A stack's state on servers: PostgreSQL databases, made when missing and dropped when
thrown away, and RabbitMQ virtual hosts, one per throwaway stack.

Scratch databases live on the server the tests use, ``POSTGRES_URL``; scratch virtual
hosts on ``RABBITMQ_URL``'s (:mod:`souk_common.testing`), made and deleted with
``rabbitmqctl``, which must reach that server's node from this machine.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import quote, unquote, urlsplit

import psycopg
from psycopg import sql

from souk_common.testing import broker_error, postgres_error, postgres_url, rabbitmq_url


def postgres_problem() -> str | None:
    """Why PostgreSQL at ``POSTGRES_URL`` cannot be used, or ``None`` when it answers."""
    return postgres_error(postgres_url())


def database_url(name: str) -> str:
    """The URL of the database ``name`` on the server at ``POSTGRES_URL``."""
    return f"{postgres_url().rsplit('/', 1)[0]}/{name}"


def _server(url: str) -> psycopg.Connection:
    """An autocommit connection to the maintenance database of the server ``url`` names."""
    parts = urlsplit(url)
    return psycopg.connect(
        dbname="postgres",
        user=parts.username or None,
        password=parts.password or None,
        host=parts.hostname or None,
        port=parts.port or None,
        connect_timeout=5,
        autocommit=True,
    )


def _name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise SystemExit(f"{url}: the URL names no database")
    return name


def ensure_postgres_database(url: str) -> bool:
    """Create the database named by a ``postgres://`` URL if it is missing; True if created."""
    name = _name(url)
    with _server(url) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists:
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def drop_postgres_database(url: str) -> None:
    """Drop the database named by a ``postgres://`` URL, closing its sessions first."""
    with _server(url) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(_name(url)))
        )


def rabbitmq_problem() -> str | None:
    """Why a stack cannot have a virtual host of its own on RabbitMQ at ``RABBITMQ_URL``,
    or ``None`` when it can."""
    error = broker_error(rabbitmq_url())
    if error is not None:
        return f"RabbitMQ at {rabbitmq_url()} does not answer: {error}"
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl, which makes a virtual host per run, is not installed here"
    try:
        _rabbitmqctl("list_vhosts")
    except RuntimeError as error:
        return str(error)
    return None


@contextlib.contextmanager
def scratch_vhost(purpose: str) -> Iterator[str]:
    """A new virtual host ``souk-<purpose>-<run>`` on RabbitMQ at ``RABBITMQ_URL``, for its
    user, as the URL that names it; deleted afterwards, with every queue and message in it."""
    server = urlsplit(rabbitmq_url())
    name = f"souk-{purpose}-{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", name)
    try:
        user = unquote(server.username or "guest")
        _rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        yield server._replace(path="/" + quote(name, safe="")).geturl()
    finally:
        _rabbitmqctl("delete_vhost", name)


def _rabbitmqctl(*args: str) -> None:
    try:
        result = subprocess.run(
            ["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {error}") from None
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {output}")
