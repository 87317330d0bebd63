"""The load test (`nox -s load`): the whole system on PostgreSQL, driven by Locust.

By default two runs, each through the gateway with 32 concurrent clients that never pause:

- ``mixed``: browse 70 %, search 15 %, order 10 %, cancel 5 %;
- ``orders``: every client places orders back to back (the target: >= 100 orders/s,
  p99 <= 500 ms, no errors).

Rate limits are off (``GATEWAY_RATE_LIMIT_ENABLED=false``): 32 clients from one
address are a benchmark, not an attack. The stack runs as production does: its relays
and consumer on RabbitMQ (a virtual host of the run's own; the embedded broker, said
loudly, when RabbitMQ cannot be had), mail to an SMTP server in this process. Each
order's confirmation mail is timed from the moment its 201 arrived (the order committed
just before) to the mail's arrival; every order must get exactly one.

``--scenario checkout`` runs the checkout instead (see :func:`measure_checkout`): every
client puts 1-3 products in its cart and checks out (``tok_visa``), back to back; each
order is timed from its 202 to ``paid`` and ``shipped`` (read from orders' database after
the run, not by polling the API) and to its paid mail; every one must get there.

``--scenario memory`` samples the memory of every process of the stack (see
:func:`measure_memory`): idle, then every 30 s of a mixed run of ``--seconds`` (600 for
the ten minutes over which no process may keep growing).

``--scenario flash`` is a flash sale (see :func:`measure_flash_sale`): every client
ordering one unit of the same product, against each client ordering its own, in
interleaved runs; then every client racing for the last units of that one product.

``--baseline COMMIT`` measures order placement instead, side by side: the orders
service of COMMIT (a git worktree, its own souk_common) against this checkout's, in
interleaved rounds on the one stack (see :func:`compare_orders`).

The results and this command go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import json
import math
import os
import pwd
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import requests
import tax

from bench import cpu_seconds, env_at, worktree, worktrees_removed, write_section
from databases import postgres_problem, rabbitmq_problem, scratch_vhost
from souk_common.test_servers import OtlpReceiver, SmtpServer
from souk_common.testing import postgres_url
from stack import (
    CONSUMERS,
    DEFAULT_WORKERS,
    RELAYS,
    REPO,
    SERVICES,
    RunningStack,
    Stack,
    free_port,
    throwaway_stack,
)

HERE = Path(__file__).resolve().parent
CLIENTS = 32
# How often a run and the waits after it say how far they are.
PROGRESS_EVERY = 10.0


def worker_count(text: str) -> tuple[str, int]:
    """``products=2`` as ("products", 2), for ``--workers``."""
    name, _, count = text.partition("=")
    if name not in SERVICES or not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(f"expected SERVICE=N with SERVICE in {SERVICES}")
    return name, int(count)


def admin_headers(stack: Stack) -> dict[str, str]:
    """The demo admin's bearer token, for the staff endpoints."""
    admin = requests.post(
        f"{stack.url('gateway')}/api/auth/token/",
        json={"username": "admin", "password": stack.admin_password},
        timeout=10,
    ).json()["access"]
    return {"Authorization": f"Bearer {admin}"}


def stock_up(stack: Stack) -> list[int]:
    """Every demo product gets a million units, so no order is refused for stock."""
    gateway = stack.url("gateway")
    headers = admin_headers(stack)
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
    """What one Locust run measured: its stats rows by name, when each order placed was
    answered 201 (a checkout: 202; ``time.time()``, by order id), and its failures (rows
    with Name, Error and Occurrences)."""

    rows: dict[str, dict[str, str]]
    answered: dict[str, float]
    failures: list[dict[str, str]] = dataclasses.field(default_factory=list)


def run_locust(
    gateway: str,
    mix: str,
    seconds: int,
    accounts: list,
    products: list[int],
    out: Path,
    name: str | None = None,
    user_class: str = "Shopper",
    stop_timeout: int = 0,
) -> LocustRun:
    """Locust through ``gateway`` for ``seconds`` with ``mix`` (clients of the locustfile's
    ``user_class``); its files under ``out``. With ``stop_timeout``, each client finishes
    the task it is in (for up to that many seconds) when the time is up, so that every
    request the servers took has its answer recorded."""
    prefix = out / (name or mix)
    placed = prefix.parent / f"{prefix.name}_placed.txt"
    final = prefix.parent / f"{prefix.name}_final.json"
    env = {
        **os.environ,
        "SOUK_LOAD_ACCOUNTS": json.dumps(accounts),
        "SOUK_LOAD_PRODUCTS": json.dumps(products),
        "SOUK_LOAD_MIX": mix,
        "SOUK_LOAD_PLACED": str(placed),
        "SOUK_LOAD_STATS": str(final),
    }
    locust = subprocess.Popen(
        [
            sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
            "--users", str(CLIENTS), "--spawn-rate", str(CLIENTS), "--run-time", f"{seconds}s",
            "--host", gateway, "--csv", str(prefix), "--only-summary",
            "--loglevel", "WARNING", "--stop-timeout", str(stop_timeout), user_class,
        ],
        env=env,
    )  # fmt: skip
    started = time.monotonic()
    try:
        # --only-summary keeps Locust quiet until the end: say how far it is meanwhile.
        while not _ended(locust, PROGRESS_EVERY):
            elapsed = min(time.monotonic() - started, seconds)
            so_far = locust_so_far(prefix.parent / f"{prefix.name}_stats.csv")
            print(f"  {name or mix}: {elapsed:.0f}/{seconds} s{so_far}", flush=True)
    finally:
        if locust.poll() is None:  # interrupted: Locust goes too
            locust.kill()
            locust.wait()
    failures = []
    if final.exists():  # the statistics once every client stopped
        stats = json.loads(final.read_text())
        rows = {row["Name"]: row for row in stats["rows"]}
        failures = stats["failures"]
    else:  # Locust's CSV, rewritten once a second
        with (prefix.parent / f"{prefix.name}_stats.csv").open() as stats_csv:
            rows = {row["Name"]: row for row in csv.DictReader(stats_csv)}
    answered = {}
    for line in placed.read_text().splitlines() if placed.exists() else []:
        order_id, at = line.split()
        answered[order_id] = float(at)
    return LocustRun(rows, answered, failures)


def _ended(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Whether ``process`` ended within ``seconds``."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def locust_so_far(stats_csv: Path) -> str:
    """``, 1,204 requests, 0 errors`` from the CSV Locust rewrites every second; or nothing."""
    try:
        with stats_csv.open() as rows:
            total = next((row for row in csv.DictReader(rows) if row["Name"] == "Aggregated"), None)
    except (OSError, csv.Error, KeyError):
        return ""
    if total is None:
        return ""
    return f", {int(total['Request Count']):,} requests, {int(total['Failure Count']):,} errors"


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
    mailed_after: int  # mail that arrived after the last 201 (the consumer alone, catching up)

    @property
    def missing(self) -> int:
        return self.orders - self.mailed

    def row(self, name: str) -> str:
        timed = self.latencies_ms or [float("nan")]
        catching_up = self.mailed_after / self.drained_after_s if self.drained_after_s else 0
        return (
            f"| {name} | {self.orders:,} | {self.mailed:,} | {self.missing:,} | {self.doubled:,} "
            f"| {percentile(timed, 50):,.0f} | {percentile(timed, 99):,.0f} "
            f"| {max(timed):,.0f} | {self.drained_after_s:.1f} | {catching_up:,.0f} |"
        )


MAIL_TABLE_HEAD = (
    "| run | orders (201) | mailed | missing | mailed more than once | p50 (ms) | p99 (ms) "
    "| max (ms) | last mail after the last 201 (s) | mailed per s after the last 201 |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
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
    said_at = time.monotonic()
    while time.monotonic() < deadline:
        arrived = len(confirmations(smtp, answered))
        if arrived == len(answered):
            break
        if time.monotonic() - said_at >= PROGRESS_EVERY:
            said_at = time.monotonic()
            print(f"  confirmation mail: {arrived:,}/{len(answered):,} arrived", flush=True)
        if arrived != seen:
            seen, progress_at = arrived, time.monotonic()
        elif time.monotonic() - progress_at > quiet:
            break
        time.sleep(0.5)
    time.sleep(2)  # a second copy of a mail would arrive meanwhile
    arrivals = confirmations(smtp, answered)
    latencies = [(min(at) - answered[oid]) * 1000 for oid, at in arrivals.items()]
    last = max((max(at) for at in arrivals.values()), default=0.0)
    last_answer = max(answered.values(), default=0.0)
    return MailTimes(
        orders=len(answered),
        mailed=len(arrivals),
        doubled=sum(1 for at in arrivals.values() if len(at) > 1),
        latencies_ms=latencies,
        drained_after_s=max(0.0, last - last_answer),
        mailed_after=sum(1 for at in arrivals.values() if min(at) > last_answer),
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


EVENT_PROCESSES = (*(f"{s}-relay" for s in RELAYS), *(f"{s}-consumer" for s in CONSUMERS))


def events_running(running: RunningStack, wanted: bool) -> None:
    """Start (or stop) the stack's relays and consumers."""
    started = False
    for process in EVENT_PROCESSES:
        if wanted and process not in running.processes:
            running.start(process)
            started = True
        elif not wanted and process in running.processes:
            running.stop(process)
    if started:
        time.sleep(3)  # no readiness probe: let them connect before the load starts


@contextlib.contextmanager
def orders_at(
    stack: Stack, tree: Path, log_dir: Path, *, name: str = "baseline", **env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The orders service of the worktree ``tree`` beside the stack's own, with the same
    database, users and products, and a gateway (this checkout's) of its own in front of
    it: the URL of that gateway, and the orders server. Both run as the stack's do, with
    ``env`` added to their environment; their logs are ``orders-<name>.log`` and
    ``gateway-<name>.log``."""
    beside = dataclasses.replace(
        stack,
        ports={**stack.ports, "orders": free_port(), "gateway": free_port()},
        extra_env={**stack.extra_env, **env},
    )
    started: list[subprocess.Popen[bytes]] = []
    try:
        orders = subprocess.Popen(
            beside.server_command("orders"),
            cwd=tree / "services" / "orders",
            env=env_at(tree, "orders", beside.env("orders")),
            start_new_session=True,
            stdout=(log_dir / f"orders-{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        started.append(orders)
        beside.wait_ready("orders")
        started.append(beside.popen("gateway", log_dir / f"gateway-{name}.log"))
        beside.wait_ready("gateway")
        yield beside.url("gateway"), orders
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def machine_cpu_seconds() -> float:
    """CPU time this machine has spent so far, every core and process (``/proc/stat``)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class Contender:
    """One way of placing orders in :func:`compare_orders`, and what it measured."""

    name: str
    gateway: str
    orders: Callable[[], subprocess.Popen[bytes]]  # the orders server behind that gateway
    events: bool  # relays and consumer run while it is measured
    runs: list[LocustRun] = dataclasses.field(default_factory=list)
    mail: list[MailTimes] = dataclasses.field(default_factory=list)
    cpu_ms: list[dict[str, float]] = dataclasses.field(default_factory=list)

    def per_second(self) -> list[float]:
        return [float(run.rows["order"]["Requests/s"]) for run in self.runs]


def events_cpu_seconds(running: RunningStack) -> float:
    """CPU time the stack's relays and consumers running now have spent so far."""
    return sum(
        cpu_seconds(running.processes[name].pid)
        for name in EVENT_PROCESSES
        if name in running.processes
    )


# Marks every unsent event of the orders outbox sent: what a run with the relays stopped
# stored (an orders service of any commit may publish) is never relayed, so it cannot
# weigh on the next run (nor be mailed).
DISCARD_UNSENT = (
    "from django.utils import timezone; "
    "from souk_common.events.models import OutboxEvent; "
    "OutboxEvent.objects.filter(sent_at=None).update(sent_at=timezone.now())"
)


def measure_round(
    running: RunningStack,
    smtp: SmtpServer,
    contender: Contender,
    *,
    seconds: int,
    accounts: list,
    products: list[int],
    out: Path,
    name: str,
) -> tuple[LocustRun, MailTimes | None, dict[str, float]]:
    """One Locust run of the ``orders`` mix through ``contender``; its confirmation mail
    (None unless relays and consumer ran), and CPU time per order (ms): of its orders
    server and of the whole machine during the run, and of the relays and consumers
    until the last mail arrived."""
    events_running(running, contender.events)
    orders = contender.orders().pid
    orders_before, machine_before = cpu_seconds(orders), machine_cpu_seconds()
    events_before = events_cpu_seconds(running)
    run = run_locust(contender.gateway, "orders", seconds, accounts, products, out, name)
    placed = max(1, len(run.answered))
    cpu = {
        "orders": (cpu_seconds(orders) - orders_before) / placed * 1000,
        "machine": (machine_cpu_seconds() - machine_before) / placed * 1000,
    }
    mail = None
    if contender.events:
        mail = confirmation_mail(smtp, run.answered)
        cpu["events"] = (events_cpu_seconds(running) - events_before) / placed * 1000
    else:
        running.stack.manage("orders", "shell", "-c", DISCARD_UNSENT)
    return run, mail, cpu


def compare_orders(
    running: RunningStack,
    smtp: SmtpServer,
    *,
    baseline: str,
    tree: Path,
    rounds: int,
    seconds: int,
    accounts: list,
    products: list[int],
    out: Path,
) -> list[Contender]:
    """Orders placed back to back (the ``orders`` mix) through four contenders, side by
    side: a warm-up run each, then ``rounds`` interleaved rounds, each starting one place
    further along the list.

    - ``baseline``'s orders service (before it published events, say), relays and
      consumer stopped;
    - this checkout's, relays and consumer stopped: the outbox INSERT alone (what it
      stored is marked sent afterwards, never relayed: see ``DISCARD_UNSENT``);
    - this checkout's with relays and consumer running, as in production;
    - this checkout's traced (OpenTelemetry on, spans exported to a collector that keeps
      nothing), its gateway too, relays and consumer stopped: what tracing costs.

    Each has a gateway of its own (the same code), so nothing restarts between runs.
    """
    stack = running.stack
    with (
        orders_at(stack, tree, running.log_dir) as (baseline_gateway, baseline_orders),
        OtlpReceiver(keep=False) as collector,
        orders_at(
            stack,
            REPO,
            running.log_dir,
            name="traced",
            OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        ) as (traced_gateway, traced_orders),
    ):
        contenders = [
            Contender(
                f"orders at {baseline[:7]}, relays and consumer stopped",
                baseline_gateway,
                lambda: baseline_orders,
                events=False,
            ),
            Contender(
                "orders here, relays and consumer stopped",
                stack.url("gateway"),
                lambda: running.processes["orders"],
                events=False,
            ),
            Contender(
                "orders here, relays and consumer running",
                stack.url("gateway"),
                lambda: running.processes["orders"],
                events=True,
            ),
            Contender(
                "orders here traced (and its gateway), relays and consumer stopped",
                traced_gateway,
                lambda: traced_orders,
                events=False,
            ),
        ]
        options = {"seconds": seconds, "accounts": accounts, "products": products, "out": out}
        for number, contender in enumerate(contenders):
            measure_round(
                running, smtp, contender, **{**options, "seconds": 5}, name=f"warm-{number}"
            )
        for round_number in range(rounds):
            shift = round_number % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                number = contenders.index(contender)
                run, mail, cpu = measure_round(
                    running, smtp, contender, **options, name=f"round{round_number}-{number}"
                )
                contender.runs.append(run)
                contender.cpu_ms.append(cpu)
                if mail is not None:
                    contender.mail.append(mail)
                print(
                    f"round {round_number + 1} {contender.name:<40} "
                    f"{float(run.rows['order']['Requests/s']):7.1f} orders/s  "
                    f"p99 {run.rows['order']['99%']} ms  "
                    f"failures {run.rows['order']['Failure Count']}  "
                    f"CPU/order {cpu}",
                    flush=True,
                )
    return contenders


COMPARISON_TABLE_HEAD = (
    "| orders service | orders/s | ratio to the first | each round | p50 (ms) | p99 (ms) | errors "
    "| orders CPU/order (ms) | relays + consumer CPU/order (ms) | machine CPU/order (ms) |\n"
    "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"
)


def events_cpu(contender: Contender) -> str:
    """The median CPU per order (ms) of the relays and consumer, where they ran."""
    if not contender.events:
        return "(stopped)"
    return f"{statistics.median(cpu['events'] for cpu in contender.cpu_ms):.2f}"


def write_comparison(
    contenders: list[Contender], *, baseline: str, rounds: int, seconds: int
) -> None:
    before = contenders[0]
    rows = []
    for contender in contenders:
        ratios = [
            mine / theirs
            for mine, theirs in zip(contender.per_second(), before.per_second(), strict=True)
        ]
        order_rows = [run.rows["order"] for run in contender.runs]
        failures = sum(int(row["Failure Count"]) for row in order_rows)
        count = sum(int(row["Request Count"]) for row in order_rows)
        cells = [
            contender.name,
            f"{statistics.median(contender.per_second()):,.1f}",
            f"{statistics.median(ratios):.2f}",
            ", ".join(f"{ratio:.2f}" for ratio in ratios),
            f"{statistics.median(float(row['50%']) for row in order_rows):,.0f}",
            f"{statistics.median(float(row['99%']) for row in order_rows):,.0f}",
            f"{failures / count * 100 if count else 0:.2f} %",
            f"{statistics.median(cpu['orders'] for cpu in contender.cpu_ms):.2f}",
            events_cpu(contender),
            f"{statistics.median(cpu['machine'] for cpu in contender.cpu_ms):.2f}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    mail_rows = [
        mail.row(f"{contender.name}, round {number}")
        for contender in contenders
        for number, mail in enumerate(contender.mail, 1)
    ]
    write_section(
        f"Order placement against {baseline[:7]}",
        f"""Measured {time.strftime("%Y-%m-%d")} with `nox -s load -- --baseline {baseline}
--rounds {rounds} --seconds {seconds}` (`tools/load/run.py`, `compare_orders`): the
`orders` mix ({CLIENTS} Locust clients placing orders back to back through the gateway,
PostgreSQL, rate limits off), {seconds} s per run, a warm-up run each, then {rounds}
interleaved rounds (each starting one contender further along). One stack, with the same
users, products and databases for all; the first contender is the orders service of
{baseline} (a git worktree, with its own souk_common) behind a gateway of its own, the
others this checkout's; the last is traced, it and its gateway (OpenTelemetry on, every
request sampled, spans sent in batches to an OTLP collector in the load process that
reads each export and keeps nothing; users and products untraced). Events travel
through RabbitMQ (a virtual host of the run's own), mail to an SMTP server in the load
process. The ratio is each round's orders/s
over that round's first contender's, median of the rounds (each round's listed). CPU
per order, from `/proc`: the orders server's processes and the whole machine's (Locust,
the SMTP server and any other work on the machine included) during the run; the relays'
and consumer's until the round's last mail arrived.

{COMPARISON_TABLE_HEAD}
{chr(10).join(rows)}

Confirmation mail of the orders of each round with relays and consumer running, timed
from each order's 201 (the events of the runs with them stopped are marked sent after
the run, never relayed, so that they weigh on no other run):

{MAIL_TABLE_HEAD}
{chr(10).join(mail_rows)}
""",
    )


# The flash sale (``--scenario flash``) ---------------------------------------------------

# Units of the one product left for the race at the end of the flash sale.
FLASH_RACE_UNITS = 200
FLASH_RACE_SECONDS = 15
FLASH_RUNS = ("one product for every client", "one product each")


def flash_products(stack: Stack, count: int) -> list[int]:
    """``count`` products of the flash sale's own, a million units each."""
    headers, run = admin_headers(stack), uuid.uuid4().hex[:6]
    ids = []
    for number in range(count):
        response = requests.post(
            f"{stack.url('gateway')}/api/products/",
            json={
                "sku": f"FLASH-{run}-{number}",
                "name": f"Flash sale item {number}",
                "price": "5.00",
                "stock": 1_000_000,
                "category": "tea",
            },
            headers=headers,
            timeout=10,
        )
        response.raise_for_status()
        ids.append(int(response.json()["id"]))
    return ids


def product_stock(stack: Stack, product_id: int) -> int:
    response = requests.get(
        f"{stack.url('gateway')}/api/products/{product_id}/",
        headers=admin_headers(stack),
        timeout=10,
    )
    response.raise_for_status()
    return int(response.json()["stock"])


def measure_flash_sale(
    running: RunningStack, *, seconds: int, rounds: int, accounts: list, out: Path
) -> None:
    """``CLIENTS`` clients placing one-unit orders back to back: all of one product (the
    flash sale: every order waits for that product's row lock), against one product
    each, in ``rounds`` interleaved rounds; then all of them racing for the last
    :data:`FLASH_RACE_UNITS` units of that one product, which must sell exactly that."""
    stack = running.stack
    own = flash_products(stack, CLIENTS)
    hot = own[0]
    runs: dict[str, list[LocustRun]] = {name: [] for name in FLASH_RUNS}
    for round_number in range(rounds):
        names = FLASH_RUNS if round_number % 2 == 0 else FLASH_RUNS[::-1]
        for name in names:
            products = [hot] if name == FLASH_RUNS[0] else own
            run = run_locust(
                stack.url("gateway"),
                "one-line",
                seconds,
                accounts,
                products,
                out,
                name=f"flash-{round_number}-{FLASH_RUNS.index(name)}",
            )
            runs[name].append(run)
            row = run.rows["order"]
            print(
                f"round {round_number + 1} {name:<30} {float(row['Requests/s']):7.1f} orders/s "
                f"p99 {row['99%']} ms failures {row['Failure Count']}",
                flush=True,
            )
    requests.patch(
        f"{stack.url('gateway')}/api/products/{hot}/",
        json={"stock": FLASH_RACE_UNITS},
        headers=admin_headers(stack),
        timeout=10,
    ).raise_for_status()
    # Every order sent gets its answer (each client ends the one it is in): the count of
    # 201s is then every order the race placed.
    race = run_locust(
        stack.url("gateway"),
        "one-line",
        FLASH_RACE_SECONDS,
        accounts,
        [hot],
        out,
        "flash-race",
        stop_timeout=10,
    )
    left = product_stock(stack, hot)
    invariant = stack.manage("products", "check_stock_invariant", capture=True).strip()
    write_flash_sale(runs, race, left, invariant, seconds=seconds, rounds=rounds)


def wait_for_events(stack: Stack, timeout: float = 120.0) -> None:
    """Until every relay's outbox is sent and every consumer's inbox handled (or
    ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = sum(
            query_rows(
                stack.database_urls[service],
                "SELECT count(*) FROM souk_events_outboxevent WHERE sent_at IS NULL",
            )[0][0]
            for service in RELAYS
        ) + sum(
            query_rows(
                stack.database_urls[service],
                "SELECT count(*) FROM souk_events_inboxevent WHERE state <> 'handled'",
            )[0][0]
            for service in CONSUMERS
        )
        if not pending:
            return
        time.sleep(0.5)


def measure_tax(
    running: RunningStack, *, seconds: int, rounds: int, accounts: list, out: Path
) -> None:
    """``rounds`` of Souk and the monolith placing orders for ``seconds`` each (see
    tax.py); written to docs/benchmarks.md."""
    stack = running.stack
    products = flash_products(stack, CLIENTS)
    results: dict[str, list[tax.Round]] = {name: [] for name in tax.NAMES}
    with tax.monolith(running, accounts, products) as (base, server):
        for number in range(rounds):
            order = tax.NAMES if number % 2 == 0 else tax.NAMES[::-1]
            for name in order:
                url = stack.url("gateway") if name == tax.NAMES[0] else base
                before_processes = (
                    process_cpu(running)
                    if name == tax.NAMES[0]
                    else {"monolith": cpu_seconds(server.pid)}
                )
                before_servers = cpu_by_account()
                run = run_locust(
                    url,
                    "one-line",
                    seconds,
                    accounts,
                    products,
                    out,
                    name=f"tax-{number}-{tax.NAMES.index(name)}",
                )
                after_processes = (
                    process_cpu(running)
                    if name == tax.NAMES[0]
                    else {"monolith": cpu_seconds(server.pid)}
                )
                if name == tax.NAMES[0]:
                    # Souk's events are part of its cost: counted, and done with before the
                    # monolith's turn, so that they take none of its machine.
                    wait_for_events(stack)
                servers = cpu_spent_by_account(before_servers, cpu_by_account())
                row = run.rows["order"]
                placed = max(1, int(row["Request Count"]) - int(row["Failure Count"]))
                cpu = {
                    process: (after_processes[process] - before_processes.get(process, 0.0))
                    / placed
                    * 1000
                    for process in after_processes
                }
                cpu |= {account: spent / placed * 1000 for account, spent in servers.items()}
                results[name].append(
                    tax.Round(
                        float(row["Requests/s"]),
                        float(row["50%"]),
                        float(row["99%"]),
                        int(row["Failure Count"]),
                        {process: ms for process, ms in cpu.items() if ms >= 0.05},
                    )
                )
                print(
                    f"round {number + 1} {name:<28} {float(row['Requests/s']):7.1f} orders/s "
                    f"p99 {row['99%']} ms failures {row['Failure Count']}",
                    flush=True,
                )
    tax.write_tax(results, seconds=seconds, rounds=rounds)


def write_flash_sale(
    runs: dict[str, list[LocustRun]],
    race: LocustRun,
    left: int,
    invariant: str,
    *,
    seconds: int,
    rounds: int,
) -> None:
    def per_second(run: LocustRun) -> float:
        return float(run.rows["order"]["Requests/s"])

    flash, spread = runs[FLASH_RUNS[0]], runs[FLASH_RUNS[1]]
    ratios = [per_second(a) / per_second(b) for a, b in zip(flash, spread, strict=True)]
    rows = []
    for name, measured in runs.items():
        order_rows = [run.rows["order"] for run in measured]
        failures = sum(int(row["Failure Count"]) for row in order_rows)
        count = sum(int(row["Request Count"]) for row in order_rows)
        rows.append(
            f"| {name} | {statistics.median(per_second(run) for run in measured):,.1f} "
            f"| {', '.join(f'{per_second(run):,.1f}' for run in measured)} "
            f"| {statistics.median(float(row['50%']) for row in order_rows):,.0f} "
            f"| {statistics.median(float(row['99%']) for row in order_rows):,.0f} "
            f"| {failures / count * 100 if count else 0:.2f} % |"
        )
    sold = len(race.answered)
    refused = int(race.rows["order"]["Failure Count"])
    write_section(
        "Flash sale",
        f"""Measured {time.strftime("%Y-%m-%d")} with `nox -s load -- --scenario flash
--seconds {seconds} --rounds {rounds}` (`tools/load/run.py`, `measure_flash_sale`):
{CLIENTS} Locust clients placing orders of one unit back to back through the gateway
(PostgreSQL, rate limits off, relays and consumers running), {seconds} s per run,
{rounds} interleaved rounds: every client ordering the same product (a flash sale:
each order's reservation waits for that product's row lock), against each client
ordering a product of its own.

| orders of | orders/s | each round | p50 (ms) | p99 (ms) | errors |
|---|---:|---|---:|---:|---:|
{chr(10).join(rows)}

The flash sale reaches **{statistics.median(ratios):.2f}** of the orders/s of the spread
orders (each round: {", ".join(f"{ratio:.2f}" for ratio in ratios)}).

Then the race: the product down to {FLASH_RACE_UNITS} units, and the {CLIENTS} clients
ordering it for {FLASH_RACE_SECONDS} s. Orders placed: **{sold}**; refused
(`409 out_of_stock`): {refused:,}; units left: **{left}**. After it: `{invariant}`.
""",
    )
    if sold != FLASH_RACE_UNITS or left != 0:
        raise SystemExit(f"the race sold {sold} of {FLASH_RACE_UNITS} units, {left} left")


# The memory scenario (``--scenario memory``) --------------------------------------------

MEMORY_EVERY = 30.0  # seconds between two samples under load
# Seconds per run of the scenarios whose default is not 60.
DEFAULT_SECONDS = {"memory": 600, "flash": 30, "tax": 30}
MEMORY_TABLE_HEAD = (
    "| process | processes | idle PSS | idle RSS | first PSS under load | peak PSS "
    "| last PSS | last RSS | growth, middle to last sample |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def group_memory(pid: int) -> tuple[int, int, int]:
    """Resident memory of a process and the rest of its process group (its workers):
    RSS and PSS in bytes (PSS splits each shared page between the processes sharing it,
    so a service's forked workers add up to what they really hold), and how many."""
    group = os.getpgid(pid)
    rss = pss = count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) != group:
                continue
            rollup = (entry / "smaps_rollup").read_text()
        except (OSError, ValueError):
            continue  # gone meanwhile
        fields = dict(line.split(":", 1) for line in rollup.splitlines()[1:] if ":" in line)
        rss += int(fields["Rss"].split()[0]) * 1024
        pss += int(fields["Pss"].split()[0]) * 1024
        count += 1
    return rss, pss, count


def memory_sample(running: RunningStack) -> dict[str, tuple[int, int, int]]:
    """Every running process of the stack (a service's server with its workers, a relay,
    a consumer...): its :func:`group_memory`."""
    sample = {}
    for name, process in running.processes.items():
        with contextlib.suppress(ProcessLookupError):
            sample[name] = group_memory(process.pid)
    return sample


def measure_memory(
    running: RunningStack,
    *,
    seconds: int,
    accounts: list,
    products: list[int],
    out: Path,
    workers: dict[str, int],
) -> None:
    """Memory of every process: idle (the stack started and seeded, nothing asked of it
    for a while), then every :data:`MEMORY_EVERY` s of a mixed run of ``seconds``; each
    process's growth over the second half of the run says whether it keeps growing."""
    time.sleep(MEMORY_EVERY)  # what starting and seeding left behind settles
    idle = memory_sample(running)
    samples: list[tuple[float, dict[str, tuple[int, int, int]]]] = []
    stop = threading.Event()

    def sample_until_stopped() -> None:
        started = time.monotonic()
        while not stop.wait(MEMORY_EVERY):
            samples.append((time.monotonic() - started, memory_sample(running)))

    sampler = threading.Thread(target=sample_until_stopped, daemon=True)
    sampler.start()
    try:
        run = run_locust(running.stack.url("gateway"), "mixed", seconds, accounts, products, out)
    finally:
        stop.set()
        sampler.join()
    write_memory(idle, samples, run, seconds=seconds, workers=workers)


def _mib(value: float) -> str:
    return f"{value / 2**20:,.0f}"


def write_memory(
    idle: dict[str, tuple[int, int, int]],
    samples: list[tuple[float, dict[str, tuple[int, int, int]]]],
    run: LocustRun,
    *,
    seconds: int,
    workers: dict[str, int],
) -> None:
    """The memory section of docs/benchmarks.md: per process, idle and under load; the
    growth over the second half of the run (its middle sample to its last)."""
    if len(samples) < 3:
        raise SystemExit(f"{len(samples)} samples under load: run for at least 90 s")
    middle, last = samples[len(samples) // 2][1], samples[-1][1]
    rows, growing = [], []
    for name in sorted(idle):
        under_load = [sample[name] for _, sample in samples if name in sample]
        peak = max(pss for _, pss, _ in under_load)
        growth = (last[name][1] - middle[name][1]) / middle[name][1] * 100
        if growth > 10:
            growing.append(name)
        rows.append(
            f"| {name} | {idle[name][2]} | {_mib(idle[name][1])} | {_mib(idle[name][0])} "
            f"| {_mib(under_load[0][1])} | {_mib(peak)} | {_mib(last[name][1])} "
            f"| {_mib(last[name][0])} | {growth:+.1f} % |"
        )
    total = {
        label: sum(values[name][1] for name in values)
        for label, values in (("idle", idle), ("middle", middle), ("last", last))
    }
    total_rss = {
        label: sum(values[name][0] for name in values)
        for label, values in (("idle", idle), ("last", last))
    }
    peak_total = max(sum(value[1] for value in sample.values()) for _, sample in samples)
    series = "\n".join(
        f"| {at:,.0f} | {_mib(sum(value[1] for value in sample.values()))} |"
        for at, sample in samples
    )
    stack_growth = (total["last"] - total["middle"]) / total["middle"] * 100
    stack_row = (
        f"| **the stack** | | **{_mib(total['idle'])}** | {_mib(total_rss['idle'])} | "
        f"| **{_mib(peak_total)}** | **{_mib(total['last'])}** | {_mib(total_rss['last'])} "
        f"| {stack_growth:+.1f} % |"
    )
    aggregated = run.rows["Aggregated"]
    processes_used = ", ".join(f"{name} {workers.get(name, DEFAULT_WORKERS)}" for name in SERVICES)
    verdict = (
        "No process grew by more than 10 % over the second half of the run."
        if not growing
        else f"Grew by more than 10 % over the second half of the run: {', '.join(growing)}."
    )
    write_section(
        "Memory",
        f"""Measured {time.strftime("%Y-%m-%d")} with `nox -s load -- --scenario memory --seconds
{seconds}` (`tools/load/run.py`, `measure_memory`): the whole stack as `nox -s up` runs
it, on PostgreSQL and RabbitMQ (server processes: {processes_used}; every relay,
consumer and the reconciler), seeded, left idle for {MEMORY_EVERY:.0f} s, then the mixed
traffic ({CLIENTS} Locust clients, browse, search, order, cancel; {aggregated["Request Count"]}
requests, {float(aggregated["Requests/s"]):,.1f}/s) for {seconds} s, sampled every
{MEMORY_EVERY:.0f} s from `/proc/<pid>/smaps_rollup`. A process is a service's server
with all its workers (its process group), a relay, a consumer. PSS shares each page
between the processes that map it (forked workers share Python and Django's code): the
sum is what the stack holds; RSS counts shared pages in every process. In MiB. PostgreSQL,
RabbitMQ and the load generator are not counted.

{MEMORY_TABLE_HEAD}
{chr(10).join(rows)}
{stack_row}

{verdict}

The stack's PSS over the run (seconds since the load started):

| s | PSS (MiB) |
|---:|---:|
{series}
""",
    )


# The checkout scenario (``--scenario checkout``) ----------------------------------------

# The mail a checkout's customer gets as it is paid, then shipped.
ORDER_MAIL = {
    "paid": re.compile(r"Your Souk order (\S+) is paid"),
    "shipped": re.compile(r"Your Souk order (\S+) has shipped"),
}

# Every checkout order of orders' database, with when it became paid and shipped: the
# ``created_at`` of its ``order.paid`` and ``order.shipped`` in the outbox, stored in the
# transaction that changed its status (the order keeps no time of its own for either),
# and how many of each it has (one, or something is wrong).
CHECKOUT_ORDERS = """
WITH paid AS (
    SELECT envelope->'data'->>'order_id' AS order_id, min(created_at) AS at, count(*) AS copies
    FROM souk_events_outboxevent WHERE type = 'order.paid' GROUP BY 1
), shipped AS (
    SELECT envelope->'data'->>'order_id' AS order_id, min(created_at) AS at, count(*) AS copies
    FROM souk_events_outboxevent WHERE type = 'order.shipped' GROUP BY 1
)
SELECT o.id::text, o.status, o.placed_at, paid.at, coalesce(paid.copies, 0),
       shipped.at, coalesce(shipped.copies, 0)
FROM orders_order o
LEFT JOIN paid ON paid.order_id = o.id::text
LEFT JOIN shipped ON shipped.order_id = o.id::text
WHERE o.kind = 'checkout'
"""


@dataclass(frozen=True)
class CheckoutOrder:
    """A checkout order as orders' database has it (times as ``time.time()`` values)."""

    status: str
    placed_at: float | None
    paid_at: float | None
    paid_events: int
    shipped_at: float | None
    shipped_events: int


def checkout_orders(database: psycopg.Connection) -> dict[str, CheckoutOrder]:
    """Every checkout order in orders' database, by id."""
    orders = {}
    for order_id, status, placed, paid, paid_events, shipped, shipped_events in database.execute(
        CHECKOUT_ORDERS
    ):
        orders[order_id] = CheckoutOrder(
            status,
            placed.timestamp() if placed else None,
            paid.timestamp() if paid else None,
            paid_events,
            shipped.timestamp() if shipped else None,
            shipped_events,
        )
    return orders


def order_mail(smtp: SmtpServer, wanted: dict[str, float]) -> dict[str, dict[str, list[float]]]:
    """When each mail of ``ORDER_MAIL`` about the orders of ``wanted`` arrived: by kind
    ("paid", "shipped"), then by order id."""
    arrivals: dict[str, dict[str, list[float]]] = {kind: {} for kind in ORDER_MAIL}
    for mail in list(smtp.mail):
        for kind, subject in ORDER_MAIL.items():
            match = subject.fullmatch(mail.subject)
            if match and match[1] in wanted:
                arrivals[kind].setdefault(match[1], []).append(mail.received_at)
    return arrivals


@dataclass(frozen=True)
class CheckoutTimes:
    """What became of a run's checkouts: each 202's arrival (by order id), every checkout
    order in orders' database after the drain, and the arrivals of their paid and shipped
    mail (see :func:`order_mail`)."""

    answered: dict[str, float]
    orders: dict[str, CheckoutOrder]
    mail: dict[str, dict[str, list[float]]]
    drain_s: float  # how long the drain waited after the run

    def since_answer(self, when: Callable[[str], float | None]) -> list[float]:
        """Milliseconds from each 202 to ``when`` (the order id's moment; None: not yet)."""
        return [
            (at - answered) * 1000
            for order_id, answered in self.answered.items()
            if (at := when(order_id)) is not None
        ]

    def paid_at(self, order_id: str) -> float | None:
        order = self.orders.get(order_id)
        return order.paid_at if order else None

    def shipped_at(self, order_id: str) -> float | None:
        order = self.orders.get(order_id)
        return order.shipped_at if order else None

    def paid_mail_at(self, order_id: str) -> float | None:
        arrivals = self.mail["paid"].get(order_id)
        return min(arrivals) if arrivals else None

    def shipped_mail_at(self, order_id: str) -> float | None:
        arrivals = self.mail["shipped"].get(order_id)
        return min(arrivals) if arrivals else None

    def row(self, name: str, when: Callable[[str], float | None]) -> str:
        latencies = self.since_answer(when)
        timed = latencies or [float("nan")]
        last_answer = max(self.answered.values(), default=0.0)
        moments = [at for oid in self.answered if (at := when(oid)) is not None]
        after = sum(1 for at in moments if at > last_answer)
        last = max(0.0, max(moments, default=last_answer) - last_answer)
        return (
            f"| {name} | {len(self.answered):,} | {len(latencies):,} "
            f"| {len(self.answered) - len(latencies):,} | {percentile(timed, 50):,.0f} "
            f"| {percentile(timed, 99):,.0f} | {max(timed):,.0f} | {after:,} | {last:.1f} |"
        )

    def placed_to_paid_ms(self) -> list[float]:
        """From each answered order's ``placed_at`` (the orders server's clock, as it began
        awaiting payment) to its ``order.paid``."""
        return [
            (order.paid_at - order.placed_at) * 1000
            for order_id in self.answered
            if (order := self.orders.get(order_id)) and order.paid_at and order.placed_at
        ]

    def paid_before_answer(self) -> int:
        """Orders paid before their 202 reached the client."""
        return sum(1 for latency in self.since_answer(self.paid_at) if latency < 0)

    def statuses(self) -> dict[str, int]:
        """How many checkout orders of the database are in each status."""
        counts: dict[str, int] = {}
        for order in self.orders.values():
            counts[order.status] = counts.get(order.status, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: -item[1]))

    def unanswered(self) -> int:
        """Checkout orders in the database whose 202 the load never saw (an error answer,
        a checkout refused once recorded)."""
        return sum(1 for order_id in self.orders if order_id not in self.answered)

    def published_twice(self) -> int:
        return sum(
            1 for order in self.orders.values() if order.paid_events > 1 or order.shipped_events > 1
        )

    def mailed_twice(self) -> int:
        """Mails (paid or shipped) that arrived more than once for an order."""
        return sum(
            1 for kind in self.mail.values() for arrivals in kind.values() if len(arrivals) > 1
        )


CHECKOUT_TIMES_HEAD = (
    "| from the 202 to | checkouts (202) | reached | missing | p50 (ms) | p99 (ms) "
    "| max (ms) | reached after the last 202 | the last after the last 202 (s) |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def checkout_outcomes(
    orders_database: str,
    smtp: SmtpServer,
    answered: dict[str, float],
    *,
    quiet: float = 30.0,
    limit: float = 600.0,
) -> CheckoutTimes:
    """Wait until every order ``answered`` 202 is shipped and its paid and shipped mail
    have arrived (or nothing moves for ``quiet`` seconds, or ``limit``), reading orders'
    database once a second (the API is not polled), then what became of them."""
    started = time.monotonic()
    deadline, progress_at, seen = started + limit, started, (-1, -1, -1, -1)
    said_at = started
    with psycopg.connect(orders_database, autocommit=True) as database:
        while time.monotonic() < deadline:
            orders, mail = checkout_orders(database), order_mail(smtp, answered)
            done = (
                sum(1 for oid in answered if (o := orders.get(oid)) and o.paid_at),
                sum(1 for oid in answered if (o := orders.get(oid)) and o.shipped_at),
                len(mail["paid"]),
                len(mail["shipped"]),
            )
            if done == (len(answered),) * len(done):
                break
            if time.monotonic() - said_at >= PROGRESS_EVERY:
                said_at = time.monotonic()
                print(
                    f"  of {len(answered):,} checkouts: {done[0]:,} paid, {done[1]:,} shipped; "
                    f"mail {done[2]:,} paid, {done[3]:,} shipped",
                    flush=True,
                )
            if done != seen:
                seen, progress_at = done, time.monotonic()
            elif time.monotonic() - progress_at > quiet:
                break
            time.sleep(1)
        drained = time.monotonic() - started
        time.sleep(2)  # a second copy of an event or mail would show meanwhile
        return CheckoutTimes(
            answered, checkout_orders(database), order_mail(smtp, answered), drained
        )


def query_rows(database_url: str, query: str) -> list[tuple]:
    with psycopg.connect(database_url, autocommit=True) as database:
        return list(database.execute(query))


def events_health(stack: Stack) -> str:
    """Each consumer's inbox (handled, retrying, dead, failed attempts) and each relay's
    unsent outbox, from the services' databases: a table's rows."""
    rows = []
    for service in SERVICES:
        if service not in CONSUMERS and service not in RELAYS:
            continue
        url = stack.database_urls[service]
        inbox = {"handled": 0, "retrying": 0, "dead": 0}
        attempts = 0
        if service in CONSUMERS:
            for state, count, tries in query_rows(
                url,
                "SELECT state, count(*), coalesce(sum(attempts), 0) "
                "FROM souk_events_inboxevent GROUP BY state",
            ):
                inbox[state] = count
                attempts += tries
        failed = max(0, attempts - inbox["handled"])
        unsent = (
            query_rows(url, "SELECT count(*) FROM souk_events_outboxevent WHERE sent_at IS NULL")[
                0
            ][0]
            if service in RELAYS
            else "-"
        )
        consumed = (
            f"{inbox['handled']:,} | {inbox['retrying']:,} | {inbox['dead']:,} | {failed:,}"
            if service in CONSUMERS
            else "- | - | - | -"
        )
        rows.append(f"| {service} | {consumed} | {unsent} |")
    return (
        "| service | events handled | retrying | dead letters | failed attempts | outbox unsent |\n"
        "|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows)
    )


RELAY_LATENCY = """
SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag)
FROM (SELECT extract(epoch FROM sent_at - created_at) * 1000 AS lag
      FROM souk_events_outboxevent
      WHERE sent_at IS NOT NULL AND created_at >= to_timestamp(%s)) lags
"""


def relay_latency(stack: Stack, since: float) -> tuple[str, float]:
    """Each relay's time from an event's commit to its publishing (confirmed by the broker),
    for the events stored since ``since`` (``time.time()``): a table, and the worst p99.

    ``created_at`` is stamped as the event is stored, in the transaction of the change it
    tells of, a moment before that commits; ``sent_at`` once the broker confirmed it. The
    difference is the commit-to-publish latency, give or take the rest of that transaction.
    """
    rows, worst = [], 0.0
    for service in RELAYS:
        with psycopg.connect(stack.database_urls[service], autocommit=True) as database:
            row = database.execute(RELAY_LATENCY, (since,)).fetchone()
        assert row is not None
        count, p50, p99, slowest = row
        if not count:
            continue
        worst = max(worst, float(p99))
        rows.append(f"| {service} | {count:,} | {p50:,.0f} | {p99:,.0f} | {slowest:,.0f} |")
    table = (
        "| relay | events | p50 (ms) | p99 (ms) | slowest (ms) |\n|---|---:|---:|---:|---:|\n"
        + "\n".join(rows)
    )
    return table, worst


def payments_by_status(stack: Stack) -> str:
    """``succeeded 1,234`` etc.: the payments in payments' database, by status."""
    counts = query_rows(
        stack.database_urls["payments"],
        "SELECT status, count(*), count(DISTINCT order_id) FROM payments_payment GROUP BY status",
    )
    return ", ".join(f"{status} {count:,}" for status, count, _ in counts) or "none"


def failure_rows(run: LocustRun) -> list[str]:
    """Locust's failures of a run: a table's rows."""
    return [
        f"| {row['Name']} | {int(row['Occurrences']):,} | "
        f"{row['Error'].replace('|', '/').replace(chr(10), ' ')[:160]} |"
        for row in run.failures
    ]


def process_cpu(running: RunningStack) -> dict[str, float]:
    """CPU seconds each process of the stack (and its workers) has spent so far."""
    return {name: cpu_seconds(popen.pid) for name, popen in running.processes.items()}


def own_cpu_seconds(who: int) -> float:
    """CPU seconds of this process (``RUSAGE_SELF``) or its waited-for children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# The servers the stack shares with whatever else runs here, by the account they run as.
SERVER_ACCOUNTS = {"postgres": "PostgreSQL", "rabbitmq": "RabbitMQ"}
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_by_account() -> dict[int, tuple[str, float]]:
    """CPU seconds so far of each process run by an account of ``SERVER_ACCOUNTS``, by pid:
    (the account, its CPU)."""
    accounts = {}
    for name in SERVER_ACCOUNTS:
        with contextlib.suppress(KeyError):
            accounts[pwd.getpwnam(name).pw_uid] = name
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            account = accounts.get(entry.stat().st_uid)
            if account is None:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry.name)] = (account, (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def cpu_spent_by_account(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds each account of ``SERVER_ACCOUNTS`` spent between two readings (a
    process that ended meanwhile is not counted)."""
    spent = dict.fromkeys(SERVER_ACCOUNTS, 0.0)
    for pid, (account, cpu) in after.items():
        spent[account] += cpu - before.get(pid, (account, 0.0))[1]
    return spent


def answered_per_second(answered: dict[str, float]) -> float:
    """Checkouts answered per second, between the first answer and the last."""
    if len(answered) < 2:
        return 0.0
    return (len(answered) - 1) / (max(answered.values()) - min(answered.values()))


def measure_checkout(
    running: RunningStack,
    smtp: SmtpServer,
    *,
    seconds: int,
    accounts: list,
    products: list[int],
    out: Path,
    workers: dict[str, int],
    broker: str,
    load_at_start: tuple[float, float, float],
) -> None:
    """The checkout scenario: ``CLIENTS`` clients each filling its cart and checking out
    back to back for ``seconds``; then the drain (every order paid, shipped and mailed),
    timed from each 202; written to docs/benchmarks.md."""
    stack = running.stack
    load_before = os.getloadavg()
    cpu_before, machine_before = process_cpu(running), machine_cpu_seconds()
    servers_before = cpu_by_account()
    self_before = own_cpu_seconds(resource.RUSAGE_SELF)
    locust_before = own_cpu_seconds(resource.RUSAGE_CHILDREN)
    run_started = time.time()
    run = run_locust(
        stack.url("gateway"),
        "checkout",
        seconds,
        accounts,
        products,
        out,
        user_class="CheckoutShopper",
        stop_timeout=30,
    )
    locust_cpu = own_cpu_seconds(resource.RUSAGE_CHILDREN) - locust_before
    load_after_run = os.getloadavg()
    times = checkout_outcomes(stack.database_urls["orders"], smtp, run.answered)
    cpu_after, machine_after = process_cpu(running), machine_cpu_seconds()
    servers = cpu_spent_by_account(servers_before, cpu_by_account())
    self_cpu = own_cpu_seconds(resource.RUSAGE_SELF) - self_before
    unpaid = [oid for oid in run.answered if times.paid_at(oid) is None]
    if unpaid:
        print(f"\n!!! {len(unpaid)} checkout(s) answered 202 never became paid: {unpaid[:5]}")
    invariant = stack.manage("products", "check_stock_invariant", capture=True).strip()
    health = events_health(stack)
    relays, relay_p99 = relay_latency(stack, run_started)
    payments = payments_by_status(stack)
    failed = failure_rows(run)

    checkouts = max(1, len(run.answered))
    spent = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
    cpu_rows = "\n".join(
        f"| {name} | {cpu / checkouts * 1000:.2f} |"
        for name, cpu in sorted(spent.items(), key=lambda item: -item[1])
    )
    machine = machine_after - machine_before
    others = machine - sum(spent.values()) - sum(servers.values()) - locust_cpu - self_cpu
    per_checkout = {
        name: cpu / checkouts * 1000
        for name, cpu in (
            ("machine", machine),
            ("stack", sum(spent.values())),
            *servers.items(),
            ("locust", locust_cpu),
            ("self", self_cpu),
            ("others", others),
        )
    }
    last_answer = max(run.answered.values(), default=0.0)
    first_answer = min(run.answered.values(), default=0.0)
    paid_in_run = sum(1 for oid in run.answered if (at := times.paid_at(oid)) and at <= last_answer)
    paid_moments = [at for oid in run.answered if (at := times.paid_at(oid)) is not None]
    drain_s = max(paid_moments, default=last_answer) - last_answer
    paid_per_second = paid_in_run / max(last_answer - first_answer, 1e-9)
    paid_rates = (
        f"{paid_in_run:,} orders became paid while checkouts were answered "
        f"({paid_per_second:.1f} per second, against {answered_per_second(run.answered):.1f} "
        f"checkouts), {len(paid_moments) - paid_in_run:,} in the {drain_s:.1f} s after the "
        f"last 202 ({(len(paid_moments) - paid_in_run) / max(drain_s, 1e-9):.1f} per second)"
    ) + (
        ": while the clients run, the relays and consumers get too little of the machine to "
        "keep up, so the time to `paid` is mostly the backlog they leave, and it grows with "
        "the run's length."
        if paid_per_second < 0.9 * answered_per_second(run.answered)
        else "."
    )
    placed = times.placed_to_paid_ms() or [float("nan")]
    statuses = ", ".join(f"{status} {count:,}" for status, count in times.statuses().items())
    table_head = (
        "| requests | count | per second | p50 (ms) | p95 (ms) | p99 (ms) | errors |\n"
        "|---|---:|---:|---:|---:|---:|---:|"
    )
    request_rows = "\n".join(
        summary(run.rows, name)
        for name in ("cart: put item", "checkout", "Aggregated")
        if name in run.rows
    )
    failure_text = (
        "Failures, as Locust counted them:\n\n| request | count | error |\n|---|---:|---|\n"
        + "\n".join(failed)
        if failed
        else "No request failed."
    )
    carts = (
        "carts, and every service's cache, in Redis at `REDIS_URL`"
        if os.environ.get("REDIS_URL")
        else "carts in the cart service's own database: no `REDIS_URL`"
    )
    processes_used = ", ".join(f"{name} {workers.get(name, DEFAULT_WORKERS)}" for name in SERVICES)
    write_section(
        "Load: checkout (cart, checkout, paid)",
        f"""Measured {time.strftime("%Y-%m-%d")} with `nox -s load -- --scenario checkout --seconds
{seconds}` (`tools/load/run.py`, `measure_checkout`; Locust's `CheckoutShopper`): {CLIENTS}
signed-in clients with no think time, each with an account of its own, each putting
1-3 products in its cart (`PUT /api/cart/items/<id>/`, 1-2 of each) and checking out
(`POST /api/checkout/`, a GB address, `tok_visa`), back to back for {seconds} s; then each
client finishes the checkout it is in. PostgreSQL ({carts}), rate limits off. Server
processes: {processes_used}; every relay and consumer runs, events through {broker},
mail to an SMTP server in the load process. Every service, PostgreSQL, RabbitMQ and
Locust share this 2-core machine. Load average (1, 5, 15 min): {fmt_load(load_at_start)}
before the stack started (other work on the machine), {fmt_load(load_before)} as the run
began, {fmt_load(load_after_run)} at its end.

**{len(run.answered):,} checkouts answered 202, {answered_per_second(run.answered):.1f} per
second** (between the first 202 and the last):

{table_head}
{request_rows}

{failure_text}

Checkout to paid: for each checkout answered 202 (the order `awaiting_payment`,
`order.placed` committed with it), from the moment the answer arrived to the order
becoming `paid` and `shipped` (the `created_at` of its `order.paid` and `order.shipped`
in orders' outbox, stored in the transaction that changed its status), and to the
arrival of its "is paid" and "has shipped" mail at the SMTP server. Read from orders'
database once a second after the run, not by polling the API; the drain waits until
every order is shipped and both its mails have arrived, or for 30 s without progress
({times.drain_s:.0f} s here):

{CHECKOUT_TIMES_HEAD}
{times.row("`paid`", times.paid_at)}
{times.row("`shipped`", times.shipped_at)}
{times.row("the paid mail", times.paid_mail_at)}
{times.row("the shipped mail", times.shipped_mail_at)}

{paid_rates}

From `placed_at` (the orders server's clock as the order began awaiting payment, before
the cart is emptied and the answer sent) to `paid`: p50 {percentile(placed, 50):,.0f} ms,
p99 {percentile(placed, 99):,.0f} ms; {times.paid_before_answer():,} order(s) were paid
before their 202 reached the client. Checkout orders in orders' database afterwards:
{statuses or "none"} ({times.unanswered():,} of them never answered 202 to the load);
`order.paid` or `order.shipped` stored more than once for {times.published_twice():,},
a paid or shipped mail sent more than once for {times.mailed_twice():,}. Payments: {payments}.
`{invariant}`.

The events afterwards, from each service's database:

{health}

**Commit to publish, p99 {relay_p99:,.0f} ms** (target: below 200 ms): for every event stored
during the run and the drain, from its `created_at` (stamped in the transaction of the
change it tells of, a moment before the commit) to its `sent_at` (once the broker confirmed
it), from each relay's outbox:

{relays}

CPU per checkout (ms) during the run and the drain, from `/proc` and `getrusage`: the
whole machine {per_checkout["machine"]:.1f}; the stack's processes
{per_checkout["stack"]:.1f}, PostgreSQL {per_checkout["postgres"]:.1f} and RabbitMQ
{per_checkout["rabbitmq"]:.1f} (every process of their accounts, other users' work
included), Locust {per_checkout["locust"]:.1f}, the load process (its SMTP server, the
drain's reads) {per_checkout["self"]:.1f}, the rest (the kernel, other work on the
machine) {per_checkout["others"]:.1f}. Each process of the stack (with its workers):

| process | CPU per checkout (ms) |
|---|---:|
{cpu_rows}
""",
    )


def broker_name(broker_url: str | None) -> str:
    return "RabbitMQ (a virtual host of the run's own)" if broker_url else "the embedded broker"


def fmt_load(averages: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.2f}" for value in averages)


def main() -> None:
    # Stopped by a signal, the run unwinds as on Ctrl-C: its processes, worktree, virtual
    # host and databases go with it.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds",
        type=int,
        default=None,
        help="per run (60; 20 with --baseline; memory 600, flash 30)",
    )
    parser.add_argument(
        "--workers",
        type=worker_count,
        action="append",
        default=[],
        metavar="SERVICE=N",
        help=f"server processes for a service (default {DEFAULT_WORKERS} each)",
    )
    parser.add_argument(
        "--baseline",
        metavar="COMMIT",
        help="measure order placement against the orders service of COMMIT, side by side",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="with --baseline, --scenario flash or tax (default 3)"
    )
    parser.add_argument(
        "--scenario",
        choices=("default", "checkout", "memory", "flash", "tax"),
        default="default",
        help="default: the mixed and the order-placement runs; checkout: clients filling "
        "their carts and checking out, timed to paid; memory: every process's memory, "
        "idle and every 30 s of a mixed run; flash: a flash sale on one product; tax: "
        "order placement against the same in one Django view on one database",
    )
    args = parser.parse_args()
    if args.baseline and args.scenario != "default":
        parser.error("--baseline measures order placement: no --scenario with it")
    seconds = args.seconds or DEFAULT_SECONDS.get(args.scenario, 60)
    if args.baseline:
        seconds = args.seconds or 20
    workers = dict(args.workers)
    load_at_start = os.getloadavg()
    problem = postgres_problem()
    if problem is not None:
        raise SystemExit(f"the load test needs PostgreSQL ({postgres_url()}): {problem}")
    scratch = Path(tempfile.mkdtemp(prefix="souk-load-"))
    with contextlib.ExitStack() as resources:
        smtp = resources.enter_context(SmtpServer())
        broker_url = resources.enter_context(rabbitmq_or_embedded())
        resources.enter_context(worktrees_removed(scratch))
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
        if args.scenario == "flash":
            measure_flash_sale(
                running, seconds=seconds, rounds=args.rounds, accounts=accounts, out=scratch
            )
            print((Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text())
            return
        if args.scenario == "tax":
            measure_tax(
                running, seconds=seconds, rounds=args.rounds, accounts=accounts, out=scratch
            )
            print((Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text())
            return
        if args.scenario == "memory":
            measure_memory(
                running,
                seconds=seconds,
                accounts=accounts,
                products=products,
                out=scratch,
                workers=workers,
            )
            print((Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text())
            return
        if args.scenario == "checkout":
            measure_checkout(
                running,
                smtp,
                seconds=seconds,
                accounts=accounts,
                products=products,
                out=scratch,
                workers=workers,
                broker=broker_name(broker_url),
                load_at_start=load_at_start,
            )
            print((Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text())
            return
        if args.baseline:
            contenders = compare_orders(
                running,
                smtp,
                baseline=args.baseline,
                tree=worktree(args.baseline, scratch),
                rounds=args.rounds,
                seconds=seconds,
                accounts=accounts,
                products=products,
                out=scratch,
            )
            write_comparison(
                contenders, baseline=args.baseline, rounds=args.rounds, seconds=seconds
            )
            print((Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text())
            return
        results = {}
        mail = {}
        for mix in ("mixed", "orders"):
            results[mix] = run_locust(
                stack.url("gateway"), mix, seconds, accounts, products, scratch
            )
            mail[mix] = confirmation_mail(smtp, results[mix].answered)
        invariant = stack.manage("products", "check_stock_invariant", capture=True).strip()
    broker = broker_name(broker_url)
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
