"""PostgreSQL databases of a stack: made when missing, dropped when thrown away.

Scratch databases live on the server the tests use, ``POSTGRES_URL``
(:mod:`souk_common.testing`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from souk_common.testing import postgres_error, postgres_url


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
