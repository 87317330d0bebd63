"""The catalogue and the orders at 10,000 and at 1,000,000 rows, side by side (docs/benchmarks.md).

    python tools/bench_scale.py catalogue [--large 1000000] [--requests 60] [--rounds 3]
    python tools/bench_scale.py orders    [--large 1000000] [--requests 60] [--rounds 3]

Inside ``flock /tmp/souk-system.lock``. For each size, a PostgreSQL database of its own
is migrated to just before the migration that adds the service's list indexes, filled
in bulk (``INSERT ... SELECT generate_series``), then migrated to the end while a
writer changes rows all along: each write's time is recorded, so the table shows
whether the index builds (``CREATE INDEX CONCURRENTLY``) held writes back. Then one
server of the service per size answers every public list query of the contract, in
interleaved rounds, one request at a time; the table gives each query's p50 at both
sizes and their ratio (the target: at most 3).

The users service of a throwaway stack runs beside them: it publishes the keys the
orders service checks tokens with, and confirms the staff account.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import write_section
from databases import database_url, drop_postgres_database, ensure_postgres_database
from stack import PROJECT_PACKAGES, RunningStack, Stack, free_port, throwaway_stack

SMALL = 10_000


@dataclass
class Dataset:
    """One size of one service's data: its database, and the server reading it."""

    service: str
    size: int
    url: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    migration_seconds: float = 0.0
    fill_seconds: float = 0.0
    writes: list[float] = field(default_factory=list)  # seconds each write took


# Names for the generated catalogue: 40 x 25 x 50 = 50,000 different names, each noun in
# one product of 50 ("lantern" finds 2 % of the catalogue, whatever its size).
ADJECTIVES = [
    "Rustic",
    "Sleek",
    "Modern",
    "Classic",
    "Vintage",
    "Compact",
    "Sturdy",
    "Elegant",
    "Bright",
    "Quiet",
    "Bold",
    "Soft",
    "Smooth",
    "Rugged",
    "Tiny",
    "Grand",
    "Handy",
    "Cozy",
    "Crisp",
    "Fresh",
    "Gentle",
    "Golden",
    "Humble",
    "Lively",
    "Lucky",
    "Mellow",
    "Noble",
    "Plain",
    "Proud",
    "Rapid",
    "Royal",
    "Simple",
    "Solid",
    "Spare",
    "Swift",
    "Tidy",
    "Urban",
    "Vivid",
    "Warm",
    "Wild",
]
MATERIALS = [
    "Oak",
    "Pine",
    "Maple",
    "Walnut",
    "Bamboo",
    "Steel",
    "Copper",
    "Brass",
    "Iron",
    "Glass",
    "Marble",
    "Slate",
    "Wool",
    "Linen",
    "Cotton",
    "Silk",
    "Leather",
    "Cork",
    "Clay",
    "Stone",
    "Bronze",
    "Tin",
    "Paper",
    "Resin",
    "Felt",
]
NOUNS = [
    "Lantern",
    "Kettle",
    "Teapot",
    "Mug",
    "Bowl",
    "Plate",
    "Spoon",
    "Ladle",
    "Basket",
    "Blanket",
    "Cushion",
    "Lamp",
    "Clock",
    "Vase",
    "Mirror",
    "Shelf",
    "Stool",
    "Bench",
    "Table",
    "Chair",
    "Desk",
    "Drawer",
    "Frame",
    "Candle",
    "Jar",
    "Bottle",
    "Tray",
    "Board",
    "Knife",
    "Grinder",
    "Scale",
    "Timer",
    "Brush",
    "Comb",
    "Towel",
    "Apron",
    "Glove",
    "Scarf",
    "Hat",
    "Bag",
    "Wallet",
    "Notebook",
    "Pen",
    "Pencil",
    "Ruler",
    "Globe",
    "Map",
    "Compass",
    "Radio",
    "Speaker",
]
NOTHING = "xylophonic"  # no generated name, SKU or description holds it


def _array(words: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{word}'" for word in words) + "]"


def fill_catalogue(connection: psycopg.Connection, size: int) -> None:
    """``size`` products in 20 categories, one in 47 retired, a tenth out of stock."""
    connection.execute(
        "INSERT INTO catalogue_category (name, slug, created_at) "
        "SELECT 'Category ' || i, 'category-' || i, now() FROM generate_series(1, 20) i"
    )
    first = connection.execute("SELECT min(id) FROM catalogue_category").fetchone()
    assert first is not None
    connection.execute(  # Numbers and the word lists above: nothing from outside.
        f"""
        INSERT INTO catalogue_product
            (sku, name, description, price, stock, category_id, is_active, created_at, updated_at)
        SELECT 'SKU-' || lpad(i::text, 7, '0'),
               name,
               'A ' || lower(name) || ' for every day, made to last and easy to care for.',
               round(1 + (i::bigint * 7919 % 50000) / 100.0, 2),
               CASE WHEN i % 10 = 0 THEN 0 ELSE i % 97 + 1 END,
               {first[0]} + i % 20,
               i % 47 <> 0,
               now() - make_interval(secs => {size} - i),
               now()
        FROM (
            SELECT i, ({_array(ADJECTIVES)})[1 + i % {len(ADJECTIVES)}] || ' '
                   || ({_array(MATERIALS)})[1 + (i / 7) % {len(MATERIALS)}] || ' '
                   || ({_array(NOUNS)})[1 + (i / 3) % {len(NOUNS)}] AS name
            FROM generate_series(1, {size}) i
        ) generated
        """,  # noqa: S608
    )


def fill_orders(connection: psycopg.Connection, size: int, first_user: int) -> None:
    """``size`` orders of ``size / 100`` users from ``first_user`` on (a hundred each,
    at both sizes), one line each, in the statuses a shop's orders end in."""
    users = max(1, size // 100)
    connection.execute(
        f"""
        INSERT INTO orders_order (id, user_id, username, kind, status, subtotal, total,
                                  created_at, updated_at)
        SELECT gen_random_uuid(), {first_user} + i % {users}, 'user-' || i % {users},
               'sale',
               (ARRAY['confirmed','paid','shipped','cancelled','rejected'])[1 + (i / {users}) % 5],
               price, price, now() - make_interval(secs => {size} - i), now()
        FROM (SELECT i, round(1 + (i::bigint * 7919 % 50000) / 100.0, 2) AS price
              FROM generate_series(1, {size}) i) generated
        """,  # noqa: S608
    )
    connection.execute(
        "INSERT INTO orders_orderline (order_id, product_id, quantity, name, unit_price) "
        "SELECT id, 1 + abs(hashtext(id::text)) % 1000, 1, 'Product', total FROM orders_order"
    )


@dataclass
class Service:
    """What the bench needs to know of one service."""

    name: str
    app: str
    before: str  # the migration before the one that adds the list indexes
    table: str  # written to during the migration
    fill: Callable[[psycopg.Connection, int], None]


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)


def manage(stack: Stack, dataset: Dataset, *args: str) -> None:
    env = stack.env(dataset.service) | {f"{dataset.service.upper()}_DATABASE_URL": dataset.url}
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=stack.service_dir(dataset.service),
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def writing(url: str, table: str, records: list[float]) -> Iterator[None]:
    """A writer changing one row after another of ``table`` until the block ends, each
    write's time appended to ``records``."""
    done = threading.Event()

    def write() -> None:
        with connect(url) as connection:
            select = f"SELECT id FROM {table} LIMIT 1000"  # noqa: S608 - a table name of ours
            ids = [row[0] for row in connection.execute(select)]
            n = 0
            while not done.is_set():
                started = time.perf_counter()
                update = f"UPDATE {table} SET updated_at = now() WHERE id = %s"  # noqa: S608
                connection.execute(update, (ids[n % len(ids)],))
                records.append(time.perf_counter() - started)
                n += 1
                time.sleep(0.01)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        yield
    finally:
        done.set()
        writer.join()


def grow(stack: Stack, service: Service, dataset: Dataset) -> None:
    """The dataset's database: migrated to ``before``, filled, migrated on while written to."""
    drop_postgres_database(dataset.url)
    ensure_postgres_database(dataset.url)
    manage(stack, dataset, "migrate", service.app, service.before, "-v0")
    started = time.monotonic()
    with connect(dataset.url) as connection:
        service.fill(connection, dataset.size)
        connection.execute("VACUUM ANALYZE")
    dataset.fill_seconds = time.monotonic() - started
    print(f"{service.name}: {dataset.size:,} rows in {dataset.fill_seconds:.0f} s", flush=True)
    started = time.monotonic()
    with writing(dataset.url, service.table, dataset.writes):
        manage(stack, dataset, "migrate", "-v0")
    dataset.migration_seconds = time.monotonic() - started
    with connect(dataset.url) as connection:
        connection.execute("ANALYZE")


def serve(stack: Stack, dataset: Dataset, logs: Path) -> None:
    """One server process (one worker) of the service on the dataset, ready on return."""
    dataset.port = free_port()
    env = stack.env(dataset.service) | {
        f"{dataset.service.upper()}_DATABASE_URL": dataset.url,
        "OTEL_SDK_DISABLED": "true",
    }
    log = (logs / f"{dataset.service}-{dataset.size}.log").open("ab")
    app = f"{PROJECT_PACKAGES[dataset.service]}.wsgi:application"
    command = [
        sys.executable, "-m", "granian", app, "--interface", "wsgi", "--no-ws",
        "--host", "127.0.0.1", "--port", str(dataset.port),
        "--workers", "1", "--blocking-threads", "8", "--log-level", "error",
    ]  # fmt: skip
    dataset.process = subprocess.Popen(
        command,
        cwd=stack.service_dir(dataset.service),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base(dataset)}/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{dataset.service} on {dataset.size:,} rows did not get ready")


def base(dataset: Dataset) -> str:
    return f"http://127.0.0.1:{dataset.port}"


def stop(dataset: Dataset) -> None:
    if dataset.process is not None:
        os.killpg(dataset.process.pid, 15)
        dataset.process.wait(timeout=30)


@contextlib.contextmanager
def served(stack: RunningStack, service: Service, sizes: list[int]) -> Iterator[list[Dataset]]:
    """A dataset of the service at each size, grown and served; stopped and dropped after."""
    datasets = [
        Dataset(service.name, size, database_url(f"souk_bench_scale_{service.name}_{size}"))
        for size in sizes
    ]
    try:
        for dataset in datasets:
            grow(stack.stack, service, dataset)
            serve(stack.stack, dataset, stack.log_dir)
        yield datasets
    finally:
        for dataset in datasets:
            stop(dataset)
            drop_postgres_database(dataset.url)


@dataclass
class Query:
    """One list query, asked of each dataset: ``path`` may depend on the dataset."""

    name: str
    path: Callable[[Dataset], str]
    headers: dict[str, str] = field(default_factory=dict)


def timings(
    datasets: list[Dataset], queries: list[Query], *, requests_each: int, rounds: int
) -> dict[tuple[str, int], list[float]]:
    """Seconds per request of each query on each dataset, interleaved over ``rounds``."""
    results: dict[tuple[str, int], list[float]] = {}
    sessions = {dataset.size: requests.Session() for dataset in datasets}
    for _ in range(rounds):
        for query in queries:
            for dataset in datasets:
                session, url = sessions[dataset.size], base(dataset) + query.path(dataset)
                for n in range(requests_each + 3):
                    started = time.perf_counter()
                    response = session.get(url, headers=query.headers, timeout=60)
                    elapsed = time.perf_counter() - started
                    if response.status_code != 200:
                        raise SystemExit(f"{query.name}: {url} answered {response.status_code}")
                    if n >= 3:  # the first few warm the caches
                        results.setdefault((query.name, dataset.size), []).append(elapsed)
    return results


def report(
    title: str,
    intro: str,
    datasets: list[Dataset],
    queries: list[Query],
    results: dict[tuple[str, int], list[float]],
    command: str,
) -> None:
    small, large = datasets
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}. {intro} Each query "
        f"{len(results[queries[0].name, small.size]):,} times per size, interleaved; "
        "the median of each. The second table is the "
        "migration that adds the indexes, run on the full table while a writer updates a "
        "row every 10 ms: each write's time, the slowest shown (a build that held writes "
        "back would show as one write as long as the build).",
        "",
        f"| query | p50 at {small.size:,} (ms) | p50 at {large.size:,} (ms) | ratio |",
        "|---|---:|---:|---:|",
    ]
    worst = 0.0
    for query in queries:
        p50s = [statistics.median(results[query.name, d.size]) * 1000 for d in datasets]
        worst = max(worst, p50s[1] / p50s[0])
        lines.append(f"| {query.name} | {p50s[0]:.1f} | {p50s[1]:.1f} | {p50s[1] / p50s[0]:.2f} |")
    lines += [
        "",
        f"Worst ratio: **{worst:.2f}** (target: at most 3).",
        "",
        "| rows | filled in (s) | migration with the indexes (s) | writes during it "
        "| slowest write (ms) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for dataset in datasets:
        slowest = max(dataset.writes, default=0.0) * 1000
        lines.append(
            f"| {dataset.size:,} | {dataset.fill_seconds:.0f} | {dataset.migration_seconds:.0f} "
            f"| {len(dataset.writes):,} | {slowest:.0f} |"
        )
    lines += ["", f"Made by `{command}`."]
    write_section(title, "\n".join(lines))
    print("\n".join(lines))


def cursor(ordering: list[str], values: list[str]) -> str:
    """A cursor of the list pagination (souk_common.pagination.Keyset) at a position."""
    raw = json.dumps([ordering, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def middle_by_name(dataset: Dataset) -> str:
    with connect(dataset.url) as connection:
        row = connection.execute(
            "SELECT name, id FROM catalogue_product WHERE is_active ORDER BY name, id "
            "OFFSET (SELECT count(*) / 2 FROM catalogue_product WHERE is_active) LIMIT 1"
        ).fetchone()
    assert row is not None
    return cursor(["name", "id"], [row[0], str(row[1])])


def bench_catalogue(stack: RunningStack, sizes: list[int], args: argparse.Namespace) -> None:
    service = Service("products", "catalogue", "0001", "catalogue_product", fill_catalogue)
    with served(stack, service, sizes) as datasets:
        middles = {dataset.size: middle_by_name(dataset) for dataset in datasets}
        products = "/api/products/"
        queries = [
            Query("no filter", lambda d: products),
            Query("`search`: a word in the name", lambda d: f"{products}?search=lantern"),
            Query("`search`: a SKU", lambda d: f"{products}?search=SKU-0004242"),
            Query(
                "`search`: a word that matches nothing", lambda d: f"{products}?search={NOTHING}"
            ),
            Query(
                "`category` with `ordering=-price`",
                lambda d: f"{products}?category=category-3&ordering=-price",
            ),
            Query(
                "`min_price`, `max_price`, `in_stock`",
                lambda d: f"{products}?min_price=100&max_price=200&in_stock=true",
            ),
            Query(
                "`ordering=name`, page 40 of 25 (offset 975, the last numbered page)",
                lambda d: f"{products}?ordering=name&page=40&page_size=25",
            ),
            Query(
                "`ordering=name`, a cursor half-way",
                lambda d: f"{products}?ordering=name&cursor={middles[d.size]}",
            ),
        ]
        results = timings(datasets, queries, requests_each=args.requests, rounds=args.rounds)
    report(
        "Catalogue at a million products",
        "Every public list query of the catalogue, one request at a time to one products "
        "server per size (one worker), each size's catalogue in its own PostgreSQL database.",
        datasets,
        queries,
        results,
        f"nox -s bench -- catalogue --large {sizes[1]}",
    )


def bench_orders(stack: RunningStack, sizes: list[int], args: argparse.Namespace) -> None:
    ((first_user, user_token),) = stack.stack.create_accounts(1, "scale-", lifetime=7200)
    admin = requests.post(
        f"{stack.url('users')}/api/auth/token/",
        json={"username": "admin", "password": stack.stack.admin_password},
        timeout=10,
    ).json()["access"]
    service = Service(
        "orders",
        "orders",
        "0003",
        "orders_order",
        lambda connection, size: fill_orders(connection, size, first_user),
    )
    user, staff = {"Authorization": f"Bearer {user_token}"}, {"Authorization": f"Bearer {admin}"}
    with served(stack, service, sizes) as datasets:
        one_order = {}
        for dataset in datasets:
            with connect(dataset.url) as connection:
                row = connection.execute(
                    "SELECT id FROM orders_order WHERE user_id = %s ORDER BY created_at LIMIT 1",
                    (first_user,),
                ).fetchone()
            assert row is not None
            one_order[dataset.size] = row[0]
        queries = [
            Query("a user's list", lambda d: "/api/orders/", user),
            Query(
                "staff: `user_id` and `status`",
                lambda d: f"/api/orders/?user_id={first_user}&status=paid",
                staff,
            ),
            Query("staff: `status`", lambda d: "/api/orders/?status=shipped", staff),
            Query("staff: everyone's", lambda d: "/api/orders/", staff),
            Query("an order's detail", lambda d: f"/api/orders/{one_order[d.size]}/", user),
        ]
        results = timings(datasets, queries, requests_each=args.requests, rounds=args.rounds)
    report(
        "Orders at a million",
        "The order lists and an order, one request at a time to one orders server per "
        "size (one worker), each size's orders (a hundred per user, one line each) in its "
        "own PostgreSQL database.",
        datasets,
        queries,
        results,
        f"nox -s bench -- orders --large {sizes[1]}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["catalogue", "orders"])
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60, help="per query, size and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = [SMALL, args.large]
    with (
        tempfile.TemporaryDirectory(prefix="souk-bench-scale-") as scratch,
        throwaway_stack(
            Path(scratch), purpose="bench", postgres=True, processes=["users"]
        ) as stack,
    ):
        if args.which == "catalogue":
            bench_catalogue(stack, sizes, args)
        else:
            bench_orders(stack, sizes, args)


if __name__ == "__main__":
    main()
