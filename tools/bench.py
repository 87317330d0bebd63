"""Benchmarks behind docs/benchmarks.md (`nox -s bench`).

Absolute numbers on a shared 2-core machine are noisy, so every comparison is
measured side by side in one run, in interleaved rounds, and reported as the
median of each contender together with the ratio between them.

    python tools/bench.py servers    # WSGI server choice for the services
    python tools/bench.py gateway    # the gateway's cost: through it vs straight to orders
    python tools/bench.py clients    # the gateway's upstream client: requests, urllib3, ours
    python tools/bench.py relay      # the events relay: events/s to RabbitMQ, the embedded broker
    python tools/bench.py choices    # hand-written pieces against libraries (bench_choices.py)
    python tools/bench.py gzip       # what gzip saves on the API's answers (bench_gzip.py)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import wrk
from databases import (
    drop_postgres_database,
    postgres_problem,
    rabbitmq_problem,
    scratch_vhost,
)
from souk_common.test_servers import OtlpReceiver
from souk_common.testing import postgres_url
from stack import (
    REPO,
    SERVICES,
    RunningStack,
    Stack,
    free_port,
    scratch_database_urls,
    throwaway_stack,
)

DOC = REPO / "docs" / "benchmarks.md"
# Server processes for each service measured: two, this machine's cores, so that one
# service alone can use both (under `nox -s up` four services share them).
BENCH_WORKERS = 2


@dataclass
class Contender:
    """One configuration under test: how to start it and which URL to load."""

    name: str
    start: Callable[[], Callable[[], None]]  # returns its stopper
    url: str
    headers: dict[str, str] | None = None
    # Processes start() started that stand in for the stack's own (by service name).
    processes: dict[str, subprocess.Popen[bytes]] = dataclasses.field(default_factory=dict)


def measure(
    contenders: list[Contender], *, rounds: int, seconds: float, connections: list[int]
) -> dict[tuple[str, int], list[wrk.WrkResult]]:
    """Run every contender at each concurrency, interleaved over ``rounds``."""
    results: dict[tuple[str, int], list[wrk.WrkResult]] = {}
    for round_number in range(1, rounds + 1):
        for contender in contenders:
            stop = contender.start()
            try:
                wrk.run(contender.url, connections=4, seconds=1, headers=contender.headers)
                for count in connections:
                    result = wrk.run(
                        contender.url,
                        connections=count,
                        seconds=seconds,
                        headers=contender.headers,
                    )
                    if result.errors:
                        # Errors are fast answers: they would pass for speed in the table.
                        raise SystemExit(
                            f"{contender.name} answered {result.errors} errors at "
                            f"{count} connections: fix it before measuring it"
                        )
                    results.setdefault((contender.name, count), []).append(result)
                    print(
                        f"round {round_number}/{rounds} {contender.name:<28} c={count:<3} "
                        f"{result.requests_per_second:9.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                        f"p99 {result.p99_ms:6.2f} ms  errors {result.errors}",
                        flush=True,
                    )
            finally:
                stop()
    return results


def median(values: list[wrk.WrkResult], attribute: str) -> float:
    return statistics.median(getattr(value, attribute) for value in values)


def write_section(title: str, body: str) -> None:
    """Replace (or append) one ``## title`` section of docs/benchmarks.md."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    marker = f"## {title}\n"
    section = marker + body.rstrip() + "\n"
    if marker in text:
        start = text.index(marker)
        following = text.find("\n## ", start + len(marker))
        end = len(text) if following == -1 else following + 1
        text = text[:start] + section + ("\n" + text[end:] if following != -1 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    DOC.write_text(text)


def bench_servers(rounds: int, seconds: float) -> None:
    """Granian vs gunicorn serving the same Django view (the users service's readiness)."""
    scratch = Path(tempfile.mkdtemp(prefix="souk-bench-"))
    base = Stack(var_dir=scratch, extra_env={"LOG_LEVEL": "WARNING"})
    base.prepare()

    def contender(name: str, server: str, threads: int) -> Contender:
        port = free_port()
        stack = Stack(
            var_dir=scratch,
            ports={**base.ports, "users": port},
            server=server,
            workers={"users": BENCH_WORKERS},
            threads={"users": threads},
            extra_env=base.extra_env,
        )

        def start() -> Callable[[], None]:
            running = RunningStack(stack, scratch / "logs" / f"{server}-{threads}")
            running.start("users")
            return running.stop_all

        return Contender(name, start, f"{stack.url('users')}/health/ready")

    contenders = [
        contender(f"granian ({BENCH_WORKERS} workers x 8 threads)", "granian", 8),
        contender(f"gunicorn gthread ({BENCH_WORKERS} x 8)", "gunicorn", 8),
        contender(f"gunicorn sync ({BENCH_WORKERS} x 1)", "gunicorn", 1),
    ]
    results = measure(contenders, rounds=rounds, seconds=seconds, connections=[1, 16])
    reference = median(results[(contenders[0].name, 16)], "requests_per_second")
    rows = []
    for item in contenders:
        rps = median(results[(item.name, 16)], "requests_per_second")
        rows.append(
            f"| {item.name} | {rps:,.0f} | {rps / reference:.2f} | "
            f"{median(results[(item.name, 1)], 'p50_ms'):.2f} | "
            f"{median(results[(item.name, 16)], 'p99_ms'):.2f} |"
        )
    write_section(
        "WSGI server for the services",
        f"""Measured {time.strftime("%Y-%m-%d")} with `nox -s bench -- servers`
({rounds} interleaved rounds of {seconds:g} s per concurrency, median shown).
Each contender serves the users service's `GET /health/ready` (Django + one
`SELECT 1` on SQLite) on this 2-core machine; the load tool is wrk.
"gunicorn sync" has one thread per worker, so a slow upstream call blocks its
worker entirely.

| server | req/s at 16 connections | ratio to granian | p50 at 1 connection (ms) | p99 at 16 (ms) |
|---|---:|---:|---:|---:|
{chr(10).join(rows)}
""",
    )
    print(DOC.read_text())


NGINX_CONF = """
worker_processes 2;
error_log stderr error;
pid {scratch}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    upstream orders {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://orders;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""


def _process_stopper(process: subprocess.Popen[bytes]) -> Callable[[], None]:
    def stop() -> None:
        process.terminate()
        process.wait(timeout=20)

    return stop


def _seed_orders(stack: Stack) -> str:
    """A user with a few orders; a one-hour access token for them."""
    import requests

    ((_, token),) = stack.create_accounts(1, "bencher-", lifetime=3600)
    products = requests.get(f"{stack.url('gateway')}/api/products/", timeout=10).json()["results"]
    for product in products[:3]:
        response = requests.post(
            f"{stack.url('gateway')}/api/orders/",
            json={"items": [{"product_id": product["id"], "quantity": 1}]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
    return token


GATEWAY_TABLE_HEAD = (
    "| path | req/s at 16 connections | ratio to direct | p50 at 1 (ms) | p99 at 1 (ms) "
    "| p50 at 16 (ms) | p99 at 16 (ms) | added p50 at 1 (ms) | added p99 at 16 (ms) |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and the rest of its process group (its workers)."""
    group = os.getpgid(pid)
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def cpu_per_request(
    stack: Stack,
    processes: dict[str, subprocess.Popen[bytes]],
    contenders: list[Contender],
    seconds: float,
) -> dict[str, dict[str, float]]:
    """Microseconds of CPU each service spends per request, for each contender (16 connections)."""
    spent: dict[str, dict[str, float]] = {}
    for contender in contenders:
        stop = contender.start()
        try:
            involved = {**processes, **contender.processes}
            before = {name: cpu_seconds(p.pid) for name, p in involved.items()}
            result = wrk.run(
                contender.url, connections=16, seconds=seconds, headers=contender.headers
            )
            after = {name: cpu_seconds(p.pid) for name, p in involved.items()}
        finally:
            stop()
        requests_done = result.requests_per_second * seconds
        spent[contender.name] = {
            name: (after[name] - before[name]) / requests_done * 1e6 for name in involved
        }
        print(
            f"cpu per request {contender.name:<28} "
            + ", ".join(f"{name} {us:.0f} us" for name, us in spent[contender.name].items()),
            flush=True,
        )
    return spent


def worktree(commit: str, scratch: Path) -> Path:
    """A git worktree of ``commit`` under ``scratch`` (see :func:`worktrees_removed`)."""
    tree = scratch / f"worktree-{commit[:10]}"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=REPO, check=True)
    return tree


@contextlib.contextmanager
def worktrees_removed(scratch: Path) -> Iterator[None]:
    """The worktrees :func:`worktree` made under ``scratch`` are removed afterwards."""
    try:
        yield
    finally:
        for tree in scratch.glob("worktree-*/"):
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO)


def env_at(tree: Path, service: str, env: dict[str, str]) -> dict[str, str]:
    """``env`` for a service of the worktree ``tree``: its code and its souk_common are
    imported, not this checkout's (run it from ``tree / "services" / service``)."""
    path = f"{tree / 'libs/common/src'}{os.pathsep}{tree / 'services' / service}"
    return {**env, "PYTHONPATH": path}


def gateway_at_commit(
    stack: Stack, commit: str, scratch: Path, headers: dict[str, str]
) -> Contender:
    """The gateway of another commit (a git worktree of it), in front of the same upstreams,
    run as that commit ran it: its event-loop public listener (``gateway_service.serve``)
    where it has one, else gunicorn gthread, as before the listener moved to an event loop."""
    tree = worktree(commit, scratch)
    port = free_port()
    if (tree / "services/gateway/gateway_service/serve.py").exists():
        command = serve_command(port)
    else:
        command = [
            sys.executable, "-m", "gunicorn", "gateway_service.wsgi",
            "--bind", f"127.0.0.1:{port}", "--workers", str(BENCH_WORKERS),
            "--worker-class", "gthread", "--threads", "64", "--log-level", "warning",
            "--forwarded-allow-ips", "",
        ]  # fmt: skip
    return gateway_beside(
        f"through the gateway at {commit[:7]}",
        command,
        tree / "services/gateway",
        env_at(tree, "gateway", stack.env("gateway")),
        scratch / "gateway-baseline.log",
        port,
        headers,
    )


def traced_gateway(
    stack: Stack, scratch: Path, headers: dict[str, str], collector: str
) -> Contender:
    """This checkout's gateway beside the stack's, traced: OpenTelemetry on, every request
    sampled, its spans exported in batches to the OTLP endpoint ``collector``."""
    port = free_port()
    return gateway_beside(
        "through the gateway, traced",
        serve_command(port),
        REPO / "services/gateway",
        {**stack.env("gateway"), "OTEL_EXPORTER_OTLP_ENDPOINT": collector},
        scratch / "gateway-traced.log",
        port,
        headers,
    )


def serve_command(port: int) -> list[str]:
    """The gateway's event-loop public listener on ``port``, with the bench's workers."""
    return [
        sys.executable, "-m", "gateway_service.serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(BENCH_WORKERS),
    ]  # fmt: skip


def gateway_beside(
    name: str,
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    log: Path,
    port: int,
    headers: dict[str, str],
) -> Contender:
    """A contender that starts another gateway (``command`` in ``cwd``) for its runs."""

    def start() -> Callable[[], None]:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, start_new_session=True,
            stdout=log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        contender.processes["gateway"] = process
        _until_answering(process, contender.url, headers)
        return _process_stopper(process)

    contender = Contender(name, start, f"http://127.0.0.1:{port}/api/orders/", headers)
    return contender


def _until_answering(
    process: subprocess.Popen[bytes], url: str, headers: dict[str, str], timeout: float = 60
) -> None:
    """Wait for a gateway just started to answer ``url`` (its workers import Django, which
    takes seconds on a busy machine)."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited with {process.returncode}: {url}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, headers=headers, timeout=5).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the gateway did not answer {url} within {timeout:g} s")


def bench_gateway(rounds: int, seconds: float, baseline: str | None = None) -> None:
    """Authenticated GET /api/orders/: straight to orders, through the gateway, through nginx,
    and (``--baseline COMMIT``) through the gateway of another commit, side by side."""
    scratch = Path(tempfile.mkdtemp(prefix="souk-bench-"))
    on_postgres = postgres_problem() is None
    with (
        worktrees_removed(scratch),
        # Where the traced gateway's spans go: read and dropped, next to no CPU.
        OtlpReceiver(keep=False) as collector,
        throwaway_stack(
            scratch,
            purpose="bench",
            postgres=on_postgres,
            extra_env={"GATEWAY_RATE_LIMIT_ENABLED": "false"},
            # Two processes each, so orders alone can keep both cores busy and the
            # gateway's CPU is taken from it (with one, orders is held to a core by the GIL).
            workers=dict.fromkeys(SERVICES, BENCH_WORKERS),
            processes=SERVICES,
        ) as running,
    ):
        stack = running.stack
        token = _seed_orders(stack)
        headers = {"Authorization": f"Bearer {token}"}

        def already_running() -> Callable[[], None]:
            return lambda: None

        contenders = [
            Contender(
                "direct to orders", already_running, f"{stack.url('orders')}/api/orders/", headers
            ),
            Contender(
                "through the gateway",
                already_running,
                f"{stack.url('gateway')}/api/orders/",
                headers,
            ),
        ]
        contenders.append(traced_gateway(stack, scratch, headers, collector.url))
        if baseline:
            contenders.append(gateway_at_commit(stack, baseline, scratch, headers))
        nginx = shutil.which("nginx") or (
            Path("/usr/sbin/nginx") if Path("/usr/sbin/nginx").exists() else None
        )
        if nginx:
            port = free_port()
            conf = scratch / "nginx.conf"
            conf.write_text(
                NGINX_CONF.format(scratch=scratch, upstream=stack.ports["orders"], port=port)
            )

            def start_nginx() -> Callable[[], None]:
                process = subprocess.Popen([str(nginx), "-c", str(conf), "-g", "daemon off;"])
                time.sleep(0.5)
                return _process_stopper(process)

            contenders.append(
                Contender(
                    "through nginx (reference)",
                    start_nginx,
                    f"http://127.0.0.1:{port}/api/orders/",
                    headers,
                )
            )
        results = measure(contenders, rounds=rounds, seconds=seconds, connections=[1, 16])
        measured_cpu = [c for c in contenders if not c.name.startswith("through nginx")]
        cpu = cpu_per_request(stack, running.processes, measured_cpu, seconds)

    direct = contenders[0].name
    rows = []
    for item in contenders:
        ratios = [
            mine.requests_per_second / theirs.requests_per_second
            for mine, theirs in zip(results[(item.name, 16)], results[(direct, 16)], strict=True)
        ]
        added_p50 = median(results[(item.name, 1)], "p50_ms") - median(
            results[(direct, 1)], "p50_ms"
        )
        added_p99_16 = median(results[(item.name, 16)], "p99_ms") - median(
            results[(direct, 16)], "p99_ms"
        )
        cells = [
            item.name,
            f"{median(results[(item.name, 16)], 'requests_per_second'):,.0f}",
            f"{statistics.median(ratios):.2f}",
            f"{median(results[(item.name, 1)], 'p50_ms'):.2f}",
            f"{median(results[(item.name, 1)], 'p99_ms'):.2f}",
            f"{median(results[(item.name, 16)], 'p50_ms'):.2f}",
            f"{median(results[(item.name, 16)], 'p99_ms'):.2f}",
            "" if item.name == direct else f"{added_p50:+.2f}",
            "" if item.name == direct else f"{added_p99_16:+.2f}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    cpu_rows = "\n".join(
        f"| {name} | {usage['orders']:,.0f} | {usage['gateway']:,.0f} |"
        for name, usage in cpu.items()
    )
    database = "PostgreSQL" if on_postgres else "SQLite"
    write_section(
        "Gateway overhead",
        f"""Measured {time.strftime("%Y-%m-%d")} with `nox -s bench -- gateway`
({rounds} interleaved rounds of {seconds:g} s per concurrency, median shown; the ratio
is the median of each round's ratio to "direct"). The request is an authenticated
`GET /api/orders/` (a user with 3 orders, {database}), rate limits off
(`GATEWAY_RATE_LIMIT_ENABLED=false`), {BENCH_WORKERS} server processes per service.
Every process, the database and wrk share this 2-core machine, so the gateway's CPU
is taken from orders: the ratio is what a whole request costs with and without the
gateway. "Traced" is a second gateway of this checkout with OpenTelemetry on (every
request sampled, its spans exported in batches to an OTLP collector in the bench
process that reads them and keeps nothing); the others run as shipped, tracing off.

{GATEWAY_TABLE_HEAD}
{chr(10).join(rows)}

CPU per request, read from `/proc` over one more {seconds:g} s run at 16 connections
(every worker of each service counted):

| path | orders (us CPU) | gateway (us CPU) |
|---|---:|---:|
{cpu_rows}
""",
    )
    print(DOC.read_text())


def early_hints_upstream() -> tuple[int, Callable[[], None]]:
    """A raw upstream that answers every request with ``103 Early Hints``, then ``200 ok``."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))

    def serve(connection: socket.socket) -> None:
        with connection:
            while connection.recv(65536):
                connection.sendall(
                    b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                )

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return int(listener.getsockname()[1]), listener.close


def bench_clients(rounds: int, calls: int = 5000) -> None:
    """Time one keep-alive GET to a trivial upstream with each client, in this process; and
    check which of them take an interim ``103`` for the answer."""
    import asyncio

    import aiohttp
    import httpx
    import requests
    import urllib3

    from souk_common.httpclient import AsyncPool, Pool

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "granian", "bench_upstream:application", "--interface", "wsgi",
            "--port", str(port), "--workers", "1", "--log-level", "error",
        ],
        cwd=REPO / "tools",
    )  # fmt: skip
    time.sleep(2)
    hints_port, stop_hints = early_hints_upstream()
    headers = {
        "accept": "application/json",
        "x-request-id": "bench",
        "x-forwarded-for": "127.0.0.1",
    }
    loop = asyncio.new_event_loop()
    sessions: list[Any] = []  # closed at the end (aiohttp and httpx sessions)

    async def open_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(connect=1, sock_read=5))

    def threaded(port: int) -> dict[str, Callable[[], int]]:
        url = f"http://127.0.0.1:{port}"
        session = requests.Session()
        pool = urllib3.connection_from_url(url, maxsize=4)
        ours = Pool.from_url(url, 4)

        def with_requests() -> int:
            response = session.get(f"{url}/api/orders/", headers=headers, timeout=(1, 5))
            _ = response.content
            return response.status_code

        def with_urllib3() -> int:
            response = pool.urlopen(
                "GET", "/api/orders/", headers=headers, retries=False, preload_content=False,
                timeout=urllib3.Timeout(connect=1, read=5),
            )  # fmt: skip
            response.read()
            response.release_conn()
            return int(response.status)

        def with_ours() -> int:
            answer = ours.request(
                "GET", "/api/orders/", headers, None, connect_timeout=1, read_timeout=5
            )
            return answer.status

        return {
            "requests (threads)": with_requests,
            "urllib3 (threads)": with_urllib3,
            "souk_common.httpclient.Pool (threads)": with_ours,
        }

    def evented(port: int) -> dict[str, Callable[[], int]]:
        url = f"http://127.0.0.1:{port}"
        session = loop.run_until_complete(open_session())
        sessions.append(session)
        client = httpx.AsyncClient(timeout=httpx.Timeout(5, connect=1))
        sessions.append(client)
        ours = AsyncPool.from_url(url, 4)

        async def aiohttp_get() -> int:
            async with session.get(f"{url}/api/orders/", headers=headers) as response:
                await response.read()
                return response.status

        async def httpx_get() -> int:
            response = await client.get(f"{url}/api/orders/", headers=headers)
            return response.status_code

        async def ours_get() -> int:
            answer = await ours.request(
                "GET", "/api/orders/", headers, None, connect_timeout=1, read_timeout=5
            )
            await answer.read()
            return answer.status

        return {
            "aiohttp (asyncio)": lambda: loop.run_until_complete(aiohttp_get()),
            "httpx (asyncio)": lambda: loop.run_until_complete(httpx_get()),
            "souk_common.httpclient.AsyncPool (asyncio)": lambda: loop.run_until_complete(
                ours_get()
            ),
        }

    clients = {**threaded(port), **evented(port)}
    interim = {**threaded(hints_port), **evented(hints_port)}
    takes_103 = {name: call() == 103 for name, call in interim.items()}
    timings: dict[str, list[float]] = {name: [] for name in clients}
    try:
        for round_number in range(1, rounds + 1):
            for name, call in clients.items():
                for _ in range(200):
                    call()
                started = time.perf_counter()
                for _ in range(calls):
                    call()
                timings[name].append((time.perf_counter() - started) / calls * 1e6)
                print(
                    f"round {round_number}/{rounds} {name:<44} {timings[name][-1]:7.0f} us/call",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(timeout=10)
        stop_hints()
        for session in sessions:
            close = session.aclose if isinstance(session, httpx.AsyncClient) else session.close
            loop.run_until_complete(close())
        loop.close()
    rows = "\n".join(
        f"| {name} | {statistics.median(values):.0f} | {'yes' if takes_103[name] else 'no'} |"
        for name, values in timings.items()
    )
    write_section(
        "The upstream client",
        f"""Measured {time.strftime("%Y-%m-%d")} with `nox -s bench -- clients`: one keep-alive
`GET` to a trivial granian upstream (a fixed 100-byte JSON answer), {calls} calls per
round, one at a time, {rounds} interleaved rounds, median per call. The time includes
the upstream's own answer (the same for all), so the differences are the clients' own
work; the asyncio ones also include a turn of the event loop per call. The last column
says whether the client took an interim `103 Early Hints` for the final answer (and so
would hand the real answer to the next caller on that connection).
`souk_common.httpclient` is the pair of pools on llhttp that `ServiceClient` (threads)
and the gateway (asyncio) use.

| client | us per call | takes a 103 for the answer |
|---|---:|---|
{rows}
""",
    )
    print(DOC.read_text())


RELAY_MEASUREMENTS = {
    "relay": "the relay (`Relay.send_pending`: outbox batches of 100, each event confirmed)",
    "publish": "the relay's producer alone (the same messages, no database)",
    "publish-unconfirmed": "the producer alone, without publisher confirms (not the relay's way)",
}


def bench_relay(rounds: int, events: int) -> None:
    """The orders relay sending ``events`` events from a full outbox, to RabbitMQ (a virtual
    host of its own) and to the embedded broker, and the broker's share of that time."""
    problem = postgres_problem()
    if problem is not None:
        raise SystemExit(f"the relay benchmark needs PostgreSQL ({postgres_url()}): {problem}")
    scratch = Path(tempfile.mkdtemp(prefix="souk-bench-"))
    stack = Stack(
        var_dir=scratch / "var",
        database_urls={"orders": scratch_database_urls("bench")["orders"]},
    )
    brokers: dict[str, str | None] = {"embedded broker": stack.broker_url}
    rabbitmq = rabbitmq_problem()
    if rabbitmq is not None:
        print(f"\n!!! {rabbitmq}; the embedded broker alone is measured.\n", flush=True)
    with contextlib.ExitStack() as afterwards:
        afterwards.callback(drop_postgres_database, stack.database_urls["orders"])
        stack.create_databases()
        stack.manage("orders", "migrate", "--no-input", "-v0")
        if rabbitmq is None:
            brokers = {"RabbitMQ": afterwards.enter_context(scratch_vhost("bench")), **brokers}
        results: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for round_number in range(1, rounds + 1):
            for broker_name, url in brokers.items():
                for what in RELAY_MEASUREMENTS:
                    if what == "publish-unconfirmed" and broker_name != "RabbitMQ":
                        continue  # the embedded broker confirms by committing, always
                    env = {
                        **stack.env("orders"),
                        "BROKER_URL": str(url),
                        "DJANGO_SETTINGS_MODULE": "orders_service.settings",
                        "LOG_LEVEL": "WARNING",
                    }
                    output = subprocess.run(
                        [sys.executable, str(REPO / "tools" / "bench_relay.py"), what,
                         "--events", str(events)],
                        cwd=stack.service_dir("orders"), env=env, check=True,
                        capture_output=True, text=True,
                    ).stdout  # fmt: skip
                    result = json.loads(output.strip().splitlines()[-1])
                    if result["queued"] != events:
                        raise SystemExit(f"{broker_name}, {what}: {result['queued']} queued")
                    results.setdefault((broker_name, what), []).append(result)
                    print(
                        f"round {round_number}/{rounds} {broker_name:<16} {what:<20} "
                        f"{result['per_second']:8,.0f} events/s  {result['seconds']:6.1f} s"
                        + (f"  (outbox filled in {result['fill_seconds']:.1f} s)"
                           if "fill_seconds" in result else ""),
                        flush=True,
                    )  # fmt: skip
    rows = []
    for (broker_name, what), measured in results.items():
        per_second = statistics.median(result["per_second"] for result in measured)
        rows.append(
            f"| {broker_name} | {RELAY_MEASUREMENTS[what]} | {per_second:,.0f} "
            f"| {1000 / per_second:.2f} |"
        )
    fills = [
        result["fill_seconds"]
        for (_, what), m in results.items()
        if what == "relay"
        for result in m
    ]
    write_section(
        "The relay",
        f"""Measured {time.strftime("%Y-%m-%d")} with `nox -s bench -- relay --events {events}
--rounds {rounds}` (`tools/bench_relay.py`, in the orders service's environment): the
outbox of orders (PostgreSQL) filled with {events:,} `order.confirmed` events of three
lines (`event_publish` in one transaction: {statistics.median(fills):.1f} s, median), then
sent by the relay to the broker until none is left; the consumer's queue
(`souk.notifications`) bound as in production, so every message is routed and stored
(persistent, on RabbitMQ in a virtual host of its own). Then the same messages published
with no database, with and without publisher confirms, to see the broker's share.
{rounds} interleaved rounds, median shown; the relay, the broker and PostgreSQL share this
2-core machine.

| broker | what sends | events/s | ms per event |
|---|---|---:|---:|
{chr(10).join(rows)}
""",
    )
    print(DOC.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description="Souk benchmarks")
    parser.add_argument(
        "which", choices=["servers", "gateway", "clients", "relay", "choices", "gzip"]
    )
    parser.add_argument("--rounds", type=int, help="rounds (3; gzip: requests of each, 300)")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--baseline", help="gateway: also measure the gateway of this commit (a git worktree)"
    )
    parser.add_argument(
        "--events", type=int, default=20_000, help="relay: events in the outbox (20,000)"
    )
    args = parser.parse_args()
    if args.which == "gzip":
        rounds = str(args.rounds or 300)
        script = str(REPO / "tools" / "bench_gzip.py")
        subprocess.run([sys.executable, script, "--rounds", rounds], check=True)
        return
    args.rounds = args.rounds or 3
    if args.which == "servers":
        bench_servers(args.rounds, args.seconds)
    elif args.which == "clients":
        bench_clients(args.rounds)
    elif args.which == "relay":
        bench_relay(args.rounds, args.events)
    elif args.which == "choices":
        subprocess.run(
            [
                sys.executable,
                str(REPO / "tools" / "bench_choices.py"),
                "--rounds",
                str(args.rounds),
            ],
            check=True,
        )
    else:
        bench_gateway(args.rounds, args.seconds, args.baseline)


if __name__ == "__main__":
    main()
