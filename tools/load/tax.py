"""The microservice tax: Souk's order placement against the same in one Django view on one
database (``tools/monolith``), side by side (``nox -s load -- --scenario tax``).

Both get the same clients (Locust, ``CLIENTS`` signed in, no think time), the same
tokens (the monolith checks the users service's RS256 signature too) and each client a
product of its own (no two orders wait for one row). Souk runs whole: gateway, orders,
products, users, its relays and consumers. The monolith runs alone on the same 2 cores,
as two server processes with 16 threads each. Rounds alternate which goes first. CPU
per order is read from ``/proc`` for every process of each, PostgreSQL's and RabbitMQ's
accounts included: what is left between them, named.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import requests
from cryptography.hazmat.primitives import serialization

from bench import write_section
from databases import database_url, drop_postgres_database, ensure_postgres_database
from stack import REPO, RunningStack, free_port

MONOLITH = REPO / "tools" / "monolith"
NAMES = ("Souk, through the gateway", "the monolith")


@dataclass
class Round:
    """One contender's run: Locust's numbers for its orders, and CPU per order by process."""

    orders_per_second: float
    p50_ms: float
    p99_ms: float
    failures: int
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per order, by process


def monolith_env(url: str, public_key: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(MONOLITH),
        "DJANGO_SETTINGS_MODULE": "monolith.settings",
        "MONOLITH_DATABASE_URL": url,
        "MONOLITH_JWT_PUBLIC_KEY": public_key,
    }


def public_key_of(running: RunningStack) -> str:
    private = serialization.load_pem_private_key(
        running.stack.signing_key_path.read_bytes(), password=None
    )
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@contextlib.contextmanager
def monolith(
    running: RunningStack, accounts: list, products: list[int]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The monolith on a database of its own holding the same accounts and products (by
    id) as Souk's: its URL and its server process, gone afterwards."""
    url = database_url(f"souk_load_monolith_{os.getpid()}")
    drop_postgres_database(url)
    ensure_postgres_database(url)
    env = monolith_env(url, public_key_of(running))
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--run-syncdb", "-v0"], env=env, check=True
    )
    gateway = running.stack.url("gateway")
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as db:
        for user_id, _ in accounts:
            db.execute(
                "INSERT INTO monolith_account (id, username, is_active) VALUES (%s, %s, true)",
                (user_id, f"user-{user_id}"),
            )
        for product_id in products:
            product = requests.get(f"{gateway}/api/products/{product_id}/", timeout=10).json()
            db.execute(
                "INSERT INTO monolith_product (id, name, price, stock, is_active) "
                "VALUES (%s, %s, %s, %s, true)",
                (product_id, product["name"], product["price"], 1_000_000),
            )
    port = free_port()
    log = (running.log_dir / "monolith.log").open("ab")
    command = [
        sys.executable, "-m", "granian", "monolith.wsgi:application", "--interface", "wsgi",
        "--no-ws", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
        "--blocking-threads", "16", "--log-level", "error",
    ]  # fmt: skip
    server = subprocess.Popen(
        command,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.RequestException):
                requests.get(f"{base}/api/orders/", timeout=2)
                break
            if time.monotonic() > deadline:
                raise SystemExit("the monolith did not start: see its log")
            time.sleep(0.2)
        yield base, server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        drop_postgres_database(url)


def write_tax(results: dict[str, list[Round]], *, seconds: int, rounds: int) -> None:
    souk, single = (results[name] for name in NAMES)
    ratios = [a.orders_per_second / b.orders_per_second for a, b in zip(souk, single, strict=True)]
    ratio = statistics.median(ratios)
    rows = [
        f"| {name} | {statistics.median(r.orders_per_second for r in measured):,.1f} "
        f"| {', '.join(f'{r.orders_per_second:,.1f}' for r in measured)} "
        f"| {statistics.median(r.p50_ms for r in measured):,.0f} "
        f"| {statistics.median(r.p99_ms for r in measured):,.0f} "
        f"| {sum(r.failures for r in measured)} |"
        for name, measured in results.items()
    ]
    cpu_rows = []
    for name, measured in results.items():
        processes = sorted(
            {process for r in measured for process in r.cpu_ms},
            key=lambda process: -statistics.median(r.cpu_ms.get(process, 0.0) for r in measured),
        )
        total = statistics.median(sum(r.cpu_ms.values()) for r in measured)
        cpu_rows += [
            f"| {name} | {process} | "
            f"{statistics.median(r.cpu_ms.get(process, 0.0) for r in measured):.2f} |"
            for process in processes
        ]
        cpu_rows.append(f"| {name} | **all of it** | **{total:.2f}** |")
    write_section(
        "The microservice tax",
        f"""Measured {time.strftime("%Y-%m-%d")} with `nox -s load -- --scenario tax --seconds
{seconds} --rounds {rounds}` (`tools/load/tax.py`): the same order placement -- check
the token and the account, validate the lines, take the stock, record the order -- as
Souk's `POST /api/orders/` through the gateway, and as one Django REST Framework view
on one PostgreSQL database (`tools/monolith`, not part of the product: the same RS256
tokens, checked once each as Souk's services do, the account read, the stock taken with
one conditional `UPDATE` per line, the order and its lines inserted, in one transaction).
32 Locust clients with no think time, one-line orders, each client a product of its own,
in interleaved rounds of {seconds} s. Souk runs whole, relays and consumers included; the
monolith runs alone, two server processes on this 2-core machine.

| contender | orders/s (median) | each round | p50 (ms) | p99 (ms) | failures |
|---|---:|---|---:|---:|---:|
{chr(10).join(rows)}

**Souk reaches {ratio:.2f}x the monolith's orders/s** (median of the rounds' ratios
{", ".join(f"{r:.2f}" for r in ratios)}; target: at least 0.5).

CPU per order (ms), median of the rounds, every process that spent at least 0.05 ms
(its workers included; `postgres` and `rabbitmq` are every process of those accounts):

| contender | process | CPU per order (ms) |
|---|---|---:|
{chr(10).join(cpu_rows)}
""",
    )
