"""The load test (`nox -s load`): the whole system on PostgreSQL, driven by Locust.

Two runs, each through the gateway with 32 concurrent clients that never pause:

- ``mixed``: browse 70 %, search 15 %, order 10 %, cancel 5 %;
- ``orders``: every client places orders back to back (the target: >= 100 orders/s,
  p99 <= 500 ms, no errors).

Rate limits are off (``GATEWAY_RATE_LIMIT_ENABLED=false``): 32 clients from one
address are a benchmark, not an attack. The results and this command go into
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from bench import write_section
from databases import postgres_problem
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


def run_locust(
    stack: Stack, mix: str, seconds: int, accounts: list, products: list[int], out: Path
) -> dict:
    env = {
        **os.environ,
        "SOUK_LOAD_ACCOUNTS": json.dumps(accounts),
        "SOUK_LOAD_PRODUCTS": json.dumps(products),
        "SOUK_LOAD_MIX": mix,
    }
    prefix = out / mix
    subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
            "--users", str(CLIENTS), "--spawn-rate", str(CLIENTS), "--run-time", f"{seconds}s",
            "--host", stack.url("gateway"), "--csv", str(prefix), "--only-summary",
            "--loglevel", "WARNING",
        ],
        env=env,
        check=False,
    )  # fmt: skip
    with (prefix.parent / f"{mix}_stats.csv").open() as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    return rows


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
    workers = dict(args.workers)
    problem = postgres_problem()
    if problem is not None:
        raise SystemExit(f"the load test needs PostgreSQL ({postgres_url()}): {problem}")
    scratch = Path(tempfile.mkdtemp(prefix="souk-load-"))
    with throwaway_stack(
        scratch,
        purpose="load",
        postgres=True,
        extra_env={
            "GATEWAY_RATE_LIMIT_ENABLED": "false",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        },
        workers=workers,
    ) as running:
        stack = running.stack
        products = stock_up(stack)
        accounts = stack.create_accounts(CLIENTS * 2, f"load{uuid.uuid4().hex[:6]}-", lifetime=3600)
        results = {
            mix: run_locust(stack, mix, args.seconds, accounts, products, scratch)
            for mix in ("mixed", "orders")
        }
        invariant = stack.manage("products", "check_stock_invariant", capture=True).strip()
    mixed = results["mixed"]
    orders = results["orders"]
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
Locust, {CLIENTS} concurrent clients with no think time, {args.seconds} s per run, PostgreSQL,
rate limits off). Server processes: {processes_used}. Every service, PostgreSQL
and Locust share this 2-core machine.
After both runs: `{invariant}`.

Mixed traffic (browse 70 %, search 15 %, order 10 %, cancel 5 %):

{table_head}
{mixed_rows}

Order placement only ({CLIENTS} clients placing orders back to back; target
>= 100 orders/s, p99 <= 500 ms, no errors):

{table_head}
{summary(orders, "order")}
""",
    )
    print((Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text())


if __name__ == "__main__":
    main()
