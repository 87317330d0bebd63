"""Database helpers: a ``DATABASES`` entry from a URL, and giving a pooled connection back."""

from __future__ import annotations

from typing import Any

import environ


def database_config(
    url: str,
    *,
    conn_max_age: int = 60,
    connect_timeout: int = 3,
    health_checks: bool = False,
    pool_size: int = 0,
) -> dict[str, Any]:
    """A Django database dict for a ``postgres://`` or ``sqlite:///`` URL.

    PostgreSQL connections come from a pool of at most ``pool_size`` per process
    (psycopg_pool, Django's ``"pool"`` option), so a server's many threads --
    most of them waiting on other services -- share a few connections instead of
    holding one each; with ``pool_size=0`` each thread keeps its own for
    ``conn_max_age`` seconds. ``health_checks`` pings a connection (``SELECT 1``)
    before every request that uses it: off by default, because it measured at
    about 10 % of the order throughput (docs/benchmarks.md), and a connection
    broken by a database restart is dropped after the one request it fails
    (callers retry; orders' calls to products are retried).
    """
    config: dict[str, Any] = environ.Env.db_url_config(url)
    engine = config["ENGINE"]
    options: dict[str, Any] = dict(config.get("OPTIONS") or {})
    if engine.endswith("postgresql"):
        options.setdefault("connect_timeout", connect_timeout)
        config.update(CONN_MAX_AGE=conn_max_age, CONN_HEALTH_CHECKS=health_checks)
        if pool_size > 0:
            options["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 10}
            config["CONN_MAX_AGE"] = 0  # the pool keeps the connections
    elif engine.endswith("sqlite3"):
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
        options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    config["OPTIONS"] = options
    return config


def release_database_connection(alias: str = "default") -> None:
    """Give a pooled connection back while this thread waits on another service.

    Django holds a request's connection until the request ends; a thread that
    then spends most of its time waiting on HTTP calls would hold one of the
    pool's few connections for nothing. Without a pool, this does nothing (the
    thread keeps its persistent connection). Call it outside any transaction.
    """
    from django.db import connections

    connection = connections[alias]
    if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
        connection.close()
