"""The load test (`nox -s load`): the whole system on PostgreSQL, driven by Locust.

Two runs, each through the gateway with 32 concurrent clients that never pause:

- ``mixed``: browse 70 %, search 15 %, order 10 %, cancel 5 %;
- ``orders``: every client places orders back to back (the target: >= 100 orders/s,
  p99 <= 500 ms, no errors).

Rate limits are off (``GATEWAY_RATE_LIMIT_ENABLED=false``): 32 clients from one
address are a benchmark, not an attack. The stack runs as production does: its relays
and consumer on RabbitMQ (a virtual host of the run's own; the embedded broker, said
loudly, when RabbitMQ cannot be had), mail to an SMTP server in this process. Each
order's confirmation mail is timed from the moment its 201 arrived (the order committed
just before) to the mail's arrival; every order must get exactly one.

The results and this command go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from bench import write_section
from databases import postgres_problem, rabbitmq_problem, scratch_vhost
from souk_common.test_servers import SmtpServer
from souk_common.testing import postgres_url
from stack import DEFAULT_WORKERS, SERVICES, Stack, throwaway_stack

HERE = Path(__file__).resolve().parent
CLIENTS = 32


def worker_count(text: str) -> tuple[str, int]:
    """``products=2`` as ("products", 2), for ``--workers``."""
    name, _, count = text.partition("=")
    if name not in SERVICES or not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(f"expected SERVICE=N with SERVICE in {SERVICES}")
    return name, int(count)


def stock_up(stack: Stack) -> list[int]:
    """Every demo product gets a million units, so no order is refused for stock."""
    gateway = stack.url("gateway")
    admin = requests.post(
        f"{gateway}/api/auth/token/",
        json={"username": "admin", "password": stack.admin_password},
        timeout=10,
    ).json()["access"]
    headers = {"Authorization": f"Bearer {admin}"}
    products = requests.get(f"{gateway}/api/products/?page_size=100", timeout=10).json()["results"]
    for product in products:
        requests.patch(
            f"{gateway}/api/products/{product['id']}/",
            json={"stock": 1_000_000},
            headers=headers,
            timeout=10,
        ).raise_for_status()
    return [product["id"] for product in products]


@dataclass(frozen=True)
class LocustRun:
    """What one Locust run measured: its stats rows by name, and when each order placed
    was answered 201 (``time.time()``, by order id)."""

    rows: dict[str, dict[str, str]]
    answered: dict[str, float]


def run_locust(
    gateway: str,
    mix: str,
    seconds: int,
    accounts: list,
    products: list[int],
    out: Path,
    name: str | None = None,
) -> LocustRun:
    """Locust through ``gateway`` for ``seconds`` with ``mix``; its files under ``out``."""
    prefix = out / (name or mix)
    placed = prefix.parent / f"{prefix.name}_placed.txt"
    env = {
        **os.environ,
        "SOUK_LOAD_ACCOUNTS": json.dumps(accounts),
        "SOUK_LOAD_PRODUCTS": json.dumps(products),
        "SOUK_LOAD_MIX": mix,
        "SOUK_LOAD_PLACED": str(placed),
    }
    subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
            "--users", str(CLIENTS), "--spawn-rate", str(CLIENTS), "--run-time", f"{seconds}s",
            "--host", gateway, "--csv", str(prefix), "--only-summary",
            "--loglevel", "WARNING",
        ],
        env=env,
        check=False,
    )  # fmt: skip
    with (prefix.parent / f"{prefix.name}_stats.csv").open() as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    answered = {}
    for line in placed.read_text().splitlines() if placed.exists() else []:
        order_id, at = line.split()
        answered[order_id] = float(at)
    return LocustRun(rows, answered)


CONFIRMED_SUBJECT = re.compile(r"Your Souk order (\S+) is confirmed")


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class MailTimes:
    """The confirmation mail of a run's orders: how many came, and how long after each
    order's 201 (milliseconds) its first copy arrived."""

    orders: int
    mailed: int
    doubled: int
    latencies_ms: list[float]
    drained_after_s: float  # the last mail's arrival after the last 201

    @property
    def missing(self) -> int:
        return self.orders - self.mailed

    def row(self, name: str) -> str:
        timed = self.latencies_ms or [float("nan")]
        return (
            f"| {name} | {self.orders:,} | {self.mailed:,} | {self.missing:,} | {self.doubled:,} "
            f"| {percentile(timed, 50):,.0f} | {percentile(timed, 99):,.0f} "
            f"| {max(timed):,.0f} | {self.drained_after_s:.1f} |"
        )


MAIL_TABLE_HEAD = (
    "| run | orders (201) | mailed | missing | mailed more than once | p50 (ms) | p99 (ms) "
    "| max (ms) | last mail after the last 201 (s) |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def confirmations(smtp: SmtpServer, wanted: dict[str, float]) -> dict[str, list[float]]:
    """When each confirmation mail about the orders of ``wanted`` arrived, by order id."""
    arrivals: dict[str, list[float]] = {}
    for mail in list(smtp.mail):
        match = CONFIRMED_SUBJECT.fullmatch(mail.subject)
        if match and match[1] in wanted:
            arrivals.setdefault(match[1], []).append(mail.received_at)
    return arrivals


def confirmation_mail(
    smtp: SmtpServer, answered: dict[str, float], *, quiet: float = 30.0, limit: float = 600.0
) -> MailTimes:
    """Wait for the confirmation mail of every order ``answered`` (until none arrives for
    ``quiet`` seconds, or ``limit``), then time each from its order's 201."""
    deadline, progress_at, seen = time.monotonic() + limit, time.monotonic(), -1
    while time.monotonic() < deadline:
        arrived = len(confirmations(smtp, answered))
        if arrived == len(answered):
            break
        if arrived != seen:
            seen, progress_at = arrived, time.monotonic()
        elif time.monotonic() - progress_at > quiet:
            break
        time.sleep(0.5)
    time.sleep(2)  # a second copy of a mail would arrive meanwhile
    arrivals = confirmations(smtp, answered)
    latencies = [(min(at) - answered[oid]) * 1000 for oid, at in arrivals.items()]
    last = max((max(at) for at in arrivals.values()), default=0.0)
    return MailTimes(
        orders=len(answered),
        mailed=len(arrivals),
        doubled=sum(1 for at in arrivals.values() if len(at) > 1),
        latencies_ms=latencies,
        drained_after_s=last - max(answered.values()) if arrivals else 0.0,
    )


@contextlib.contextmanager
def rabbitmq_or_embedded() -> Iterator[str | None]:
    """A RabbitMQ virtual host of the run's own, or None (the embedded broker), said loudly."""
    problem = rabbitmq_problem()
    if problem is not None:
        print(f"\n!!! {problem}; events travel through the embedded broker.\n", flush=True)
        yield None
        return
    with scratch_vhost("load") as url:
        yield url


def summary(rows: dict, name: str) -> str:
    row = rows[name]
    count, failures = int(row["Request Count"]), int(row["Failure Count"])
    return (
        f"| {name} | {count:,} | {float(row['Requests/s']):,.1f} | {row['50%']} | {row['95%']} "
        f"| {row['99%']} | {failures / count * 100 if count else 0:.2f} % |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--workers",
        type=worker_count,
        action="append",
        default=[],
        metavar="SERVICE=N",
        help=f"server processes for a service (default {DEFAULT_WORKERS} each)",
    )
    args = parser.parse_args()
    seconds = args.seconds
    workers = dict(args.workers)
    problem = postgres_problem()
    if problem is not None:
        raise SystemExit(f"the load test needs PostgreSQL ({postgres_url()}): {problem}")
    scratch = Path(tempfile.mkdtemp(prefix="souk-load-"))
    with contextlib.ExitStack() as resources:
        smtp = resources.enter_context(SmtpServer())
        broker_url = resources.enter_context(rabbitmq_or_embedded())
        running = resources.enter_context(
            throwaway_stack(
                scratch,
                purpose="load",
                postgres=True,
                broker_url=broker_url,
                extra_env={
                    "GATEWAY_RATE_LIMIT_ENABLED": "false",
                    "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
                    "EMAIL_URL": smtp.url,
                },
                workers=workers,
            )
        )
        stack = running.stack
        products = stock_up(stack)
        accounts = stack.create_accounts(CLIENTS * 2, f"load{uuid.uuid4().hex[:6]}-", lifetime=3600)
        results = {}
        mail = {}
        for mix in ("mixed", "orders"):
            results[mix] = run_locust(
                stack.url("gateway"), mix, seconds, accounts, products, scratch
            )
            mail[mix] = confirmation_mail(smtp, results[mix].answered)
        invariant = stack.manage("products", "check_stock_invariant", capture=True).strip()
    broker = "RabbitMQ (a virtual host of the run's own)" if broker_url else "the embedded broker"
    mixed = results["mixed"].rows
    orders = results["orders"].rows
    table_head = (
        "| requests | count | per second | p50 (ms) | p95 (ms) | p99 (ms) | errors |\n"
        "|---|---:|---:|---:|---:|---:|---:|"
    )
    mixed_rows = "\n".join(
        summary(mixed, name)
        for name in ("browse list", "browse product", "search", "order", "cancel", "Aggregated")
        if name in mixed
    )
    processes_used = ", ".join(f"{name} {workers.get(name, DEFAULT_WORKERS)}" for name in SERVICES)
    write_section(
        "Load: the whole system through the gateway",
        f"""Measured {time.strftime("%Y-%m-%d")} with `nox -s load` (`tools/load/run.py`,
Locust, {CLIENTS} concurrent clients with no think time, {seconds} s per run, PostgreSQL,
rate limits off). Server processes: {processes_used}; the relays and the consumer run,
events through {broker}, mail to an SMTP server in the load process. Every service,
PostgreSQL, RabbitMQ and Locust share this 2-core machine.
After both runs: `{invariant}`.

Mixed traffic (browse 70 %, search 15 %, order 10 %, cancel 5 %):

{table_head}
{mixed_rows}

Order placement only ({CLIENTS} clients placing orders back to back; target
>= 100 orders/s, p99 <= 500 ms, no errors):

{table_head}
{summary(orders, "order")}

Commit to e-mail: for each order answered 201, from the moment the answer arrived (the
order committed just before) to the arrival of its confirmation mail ("Your Souk order
<id> is confirmed") at the SMTP server; every order must get exactly one:

{MAIL_TABLE_HEAD}
{mail["mixed"].row("mixed")}
{mail["orders"].row("order placement only")}
""",
    )
    print((Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text())


if __name__ == "__main__":
    main()
