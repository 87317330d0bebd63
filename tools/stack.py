"""The Souk services, their relays and consumers as local processes: how they are configured,
prepared and run.

A :class:`Stack` says where and how every process runs (ports, databases, environment,
command lines) and prepares local state before they start:

1. development keys and service secrets under ``var/`` (first start only; never committed);
2. a PostgreSQL database for every ``*_DATABASE_URL`` that names a missing one;
3. migrations, the service clients, then idempotent demo data;
4. each consumer's queue on the broker, so that no event a relay sends is lost before
   the consumer first runs.

Every process has one broker, ``BROKER_URL``: the embedded one (an SQLite file under
``var/``) unless the stack is given a RabbitMQ URL.

A :class:`RunningStack` holds the processes one program started (the system tests stop,
hang and restart single services through it); :func:`throwaway_stack` is the one way the
system tests, the benchmarks and the load test start a whole stack of their own, on free
ports and scratch databases. ``nox -s up`` supervises the processes instead (``up.py``).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

from databases import database_url, drop_postgres_database, ensure_postgres_database
from souk_common.events import broker
from souk_common.keys import SigningKey, ensure_private_key_file
from souk_common.testing import TokenFactory

REPO = Path(__file__).resolve().parent.parent
_SECRETS_LOCK = threading.Lock()
SERVICES = (
    "users",
    "products",
    "orders",
    "gateway",
    "notifications",
    "cart",
    "payments",
    "shipping",
)
# The shop's web front: a Django project like the services, with no database and no API of
# its own; it calls the gateway like any client (services/storefront).
STOREFRONT = "storefront"
PROJECTS = (*SERVICES, STOREFRONT)
PROJECT_PACKAGES = {name: f"{name}_service" for name in PROJECTS}
# Threads of each WSGI server process (the gateway's is only its admin listener: its
# public one runs on an event loop, see gateway_service/serve.py).
DEFAULT_THREADS = {
    "cart": 16,
    "gateway": 4,
    "notifications": 16,
    "orders": 24,
    "payments": 16,
    "products": 16,
    "shipping": 16,
    "storefront": 16,
    "users": 16,
}
# The four services share this machine: each gets one worker process per core of its
# share (one on a 2-core machine). More processes than cores cost the tail: with
# `nox -s load` on 2 cores, an order's p99 was 640 ms with 2 processes each and 520 ms
# with one (710 ms against 1,700 ms in mixed traffic; docs/benchmarks.md).
DEFAULT_WORKERS = max(1, len(os.sched_getaffinity(0)) // len(SERVICES))
# Services that call others with a service token, and the scopes they get.
SERVICE_CLIENTS = {
    # Checkout reads and empties the cart, and asks shipping for its cost.
    "orders": ["users:read", "stock:reserve", "cart:checkout", "shipping:quote"],
    # Staff-only operations check the account's current state with users.
    "products": ["users:read"],
    # An event names an account; its e-mail address is asked of users.
    "notifications": ["users:contact"],
    # Staff see every payment: checked with users, as products does.
    "payments": ["users:read"],
}
# Services that publish events, each run with a relay sending its outbox to the broker
# (`<service>-relay`), and services that consume them, each with a consumer of its queue
# (`<service>-consumer`): a service that starts publishing or consuming is one name here.
RELAYS = ("users", "orders", "payments", "shipping")
CONSUMERS = ("notifications", "orders", "payments", "shipping")


@dataclass(frozen=True)
class Process:
    """A long-running process of the stack: a prefix in `nox -s up`'s log, restarted if it dies."""

    service: str  # whose folder and environment it runs with
    command: Callable[[Stack], list[str]]
    port: int | None = None  # default port, moved with <NAME>_PORT; ready at /health/ready


# Every process `nox -s up` supervises and the system tests start, in start order:
# adding one is adding a line here.
PROCESSES: dict[str, Process] = {
    "users": Process("users", lambda stack: stack.server_command("users"), port=8001),
    "products": Process("products", lambda stack: stack.server_command("products"), port=8002),
    "orders": Process("orders", lambda stack: stack.server_command("orders"), port=8003),
    "notifications": Process(
        "notifications", lambda stack: stack.server_command("notifications"), port=8007
    ),
    "cart": Process("cart", lambda stack: stack.server_command("cart"), port=8004),
    "payments": Process("payments", lambda stack: stack.server_command("payments"), port=8005),
    "shipping": Process("shipping", lambda stack: stack.server_command("shipping"), port=8006),
    "gateway": Process("gateway", lambda stack: stack.edge_command(), port=8000),
    "gateway-admin": Process(
        "gateway",
        lambda stack: stack.server_command("gateway", listener="gateway-admin"),
        port=8009,
    ),
    "storefront": Process(STOREFRONT, lambda stack: stack.server_command(STOREFRONT), port=8080),
    # The orders recovery, on a schedule.
    "reconciler": Process("orders", lambda stack: stack.reconciler_command()),
    # Expired carts of the embedded store (none with Redis, which expires them itself).
    "cart-purger": Process(
        "cart", lambda stack: stack.manage_command("purge_carts", "--every", "600")
    ),
}
# Consumers start before relays: a queue receives only what is published once it exists
# (Stack.prepare has each consumer declare its queue before anything starts, too).
PROCESSES |= {
    f"{service}-consumer": Process(service, lambda stack: stack.manage_command("consume_events"))
    for service in CONSUMERS
}
PROCESSES |= {
    f"{service}-relay": Process(service, lambda stack: stack.manage_command("relay_events"))
    for service in RELAYS
}
DEFAULT_PORTS = {name: p.port for name, p in PROCESSES.items() if p.port is not None}


def port_variable(name: str) -> str:
    """The variable that moves a process's port: ``GATEWAY_PORT``, ``GATEWAY_ADMIN_PORT``."""
    return f"{name.upper().replace('-', '_')}_PORT"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def masked(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``: fit for a log or a banner."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    credentials = f"{parts.username or ''}:***@"
    return urlunsplit(parts._replace(netloc=credentials + parts.netloc.rpartition("@")[2]))


def queue_declared(broker_url: str, queue: str) -> bool:
    """Whether the broker at ``broker_url`` has ``queue`` (the embedded one: bound somewhere)."""
    with broker.connection(broker_url) as connection:
        channel = connection.default_channel
        if broker_url.startswith(broker.EMBEDDED_SCHEME):
            # The embedded broker declares any queue asked of it; its bindings are rows.
            found = channel.db.connection().execute(
                "SELECT 1 FROM binding WHERE queue = ?", (queue,)
            )
            return found.fetchone() is not None
        try:
            channel.queue_declare(queue=queue, passive=True)
        except connection.channel_errors:
            return False
        return True


def scratch_database_urls(purpose: str) -> dict[str, str]:
    """A new PostgreSQL database URL per service (``souk_<purpose>_<service>_<run>``) on the
    server at ``POSTGRES_URL``, for a stack that is thrown away afterwards."""
    run = uuid.uuid4().hex[:8]
    return {service: database_url(f"souk_{purpose}_{service}_{run}") for service in SERVICES}


class Progress:
    """Numbered steps, each on one line as it runs: ``[3/12] migrating orders... 2.1 s``.

    What a step prints itself (``print``) is held back and shown under its line once the
    step is done, so the line is never broken in two; a step that fails says so.
    """

    def __init__(self, total: int, out: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self._out = out or sys.stdout

    @contextlib.contextmanager
    def step(self, what: str) -> Iterator[None]:
        self.done += 1
        print(f"[{self.done}/{self.total}] {what}... ", end="", file=self._out, flush=True)
        said = io.StringIO()
        started = time.monotonic()
        try:
            with contextlib.redirect_stdout(said):
                yield
        except BaseException:
            self._end("failed", said.getvalue())
            raise
        self._end(f"{time.monotonic() - started:.1f} s", said.getvalue())

    def report(self, what: str, seconds: float) -> None:
        """A step that ran elsewhere (a thread of a pool), said once it is done."""
        self.done += 1
        print(f"[{self.done}/{self.total}] {what}... ", end="", file=self._out)
        self._end(f"{seconds:.1f} s", "")

    def _end(self, outcome: str, said: str) -> None:
        print(outcome, file=self._out)
        for line in said.splitlines():
            if line.strip():
                print(f"       {line}", file=self._out)
        self._out.flush()


@dataclass
class Stack:
    """Where and how the services run on this machine.

    ``ports`` maps each process with a port to it; one left out gets a free port.
    ``broker_url`` is every process's ``BROKER_URL``: RabbitMQ (``amqp://...``), or by
    default the embedded broker, ``sqlite:///<var_dir>/broker.sqlite3``.
    """

    var_dir: Path = REPO / "var"
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    database_urls: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    extra_env: dict[str, str] = field(default_factory=dict)
    server: str = "granian"
    servers: dict[str, str] = field(default_factory=dict)
    workers: dict[str, int] = field(default_factory=dict)
    threads: dict[str, int] = field(default_factory=dict)
    broker_url: str = ""

    def __post_init__(self) -> None:
        for name in DEFAULT_PORTS:
            self.ports.setdefault(name, free_port())
        if not self.broker_url:
            self.broker_url = f"sqlite:///{self.var_dir / 'broker.sqlite3'}"

    # Addresses -----------------------------------------------------------------

    def url(self, name: str) -> str:
        """Base URL of a service (or another process with a port), e.g. ``http://127.0.0.1:8001``."""
        return f"http://{self.host}:{self.ports[name]}"

    def service_dir(self, service: str) -> Path:
        return REPO / "services" / service

    # Environment -----------------------------------------------------------------

    @property
    def metrics_dir(self) -> Path:
        """``var/metrics/<service>/``: the metrics files of a service's processes."""
        return self.var_dir / "metrics"

    @property
    def signing_key_path(self) -> Path:
        return self.var_dir / "keys" / "jwt-signing.pem"

    def secret(self, name: str) -> str:
        """A development secret kept under ``var/secrets/``, generated on first use (once,
        though the preparing steps that ask for it run side by side)."""
        path = self.var_dir / "secrets" / name
        with _SECRETS_LOCK:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch(mode=0o600)
                path.write_text(secrets.token_urlsafe(32))
            return path.read_text().strip()

    def env(self, service: str) -> dict[str, str]:
        """The environment a service process runs with."""
        env = dict(os.environ)
        env.update(
            SOUK_ENV="development",
            SOUK_VAR_DIR=str(self.var_dir),
            PYTHONUNBUFFERED="1",
            JWT_JWKS_URL=f"{self.url('users')}/api/auth/jwks.json",
            # The gateway sends it upstream; services believe its X-Forwarded-For only with it.
            GATEWAY_PROXY_SECRET=self.secret("gateway-proxy-secret"),
            # The storefront names each browser to the gateway with it.
            GATEWAY_FRONTEND_SECRET=self.secret("gateway-frontend-secret"),
            # One broker for every relay and consumer, whatever the environment said.
            BROKER_URL=self.broker_url,
        )
        # Where every service is (USERS_URL, ORDERS_URL...), for the gateway and the callers.
        env.update({f"{name.upper()}_URL": self.url(name) for name in PROJECTS})
        # The mails' links open the storefront's pages, wherever it listens.
        env.update(
            PASSWORD_RESET_URL=f"{self.url(STOREFRONT)}/password-reset/confirm/?token={{token}}",
            EMAIL_VERIFICATION_URL=f"{self.url(STOREFRONT)}/verify-email/?token={{token}}",
        )
        env.update({port_variable(name): str(port) for name, port in self.ports.items()})
        for name, url in self.database_urls.items():
            env[f"{name.upper()}_DATABASE_URL"] = url
        # Every process of a service writes its metrics here; its /metrics adds them up
        # (the gateway's admin listener reads what the public one's workers write).
        metrics = self.metrics_dir / service
        metrics.mkdir(parents=True, exist_ok=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        if service == "users":
            env["JWT_PRIVATE_KEY_FILE"] = str(self.signing_key_path)
        for client_id in SERVICE_CLIENTS:
            if client_id == service:
                env["SERVICE_CLIENT_ID"] = client_id
                env["SERVICE_CLIENT_SECRET"] = self.secret(f"{client_id}-client-secret")
        env.update(self.extra_env)
        return env

    # Preparing local state ---------------------------------------------------------

    def manage(self, service: str, *args: str, capture: bool = False) -> str:
        """Run ``manage.py`` of a service; fail loudly with its output if it fails."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.service_dir(service),
            env=self.env(service),
            capture_output=capture,
            text=True,
        )
        if result.returncode != 0:
            detail = (result.stdout or "") + (result.stderr or "") if capture else ""
            raise SystemExit(f"{service}: manage.py {' '.join(args)} failed\n{detail}")
        return result.stdout or ""

    def create_databases(self) -> None:
        """Create every PostgreSQL database the URLs name that does not exist yet."""
        for service, url in self.database_urls.items():
            if url.startswith(("postgres://", "postgresql://")) and ensure_postgres_database(url):
                print(f"created PostgreSQL database for {service}: {masked(url)}", flush=True)

    def migrate(self, progress: Progress | None = None) -> None:
        """Every service's migrations and cache table, a step of ``progress`` each.

        The services' databases are their own, so they are migrated side by side, one
        process per core: most of a process's time is Django starting, on the CPU.
        """
        progress = progress or Progress(len(SERVICES))

        def prepare(service: str) -> tuple[str, float]:
            started = time.monotonic()
            self.manage(service, "prepare_database", "-v0", capture=True)
            return service, time.monotonic() - started

        workers = max(2, len(os.sched_getaffinity(0)))
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            for done in concurrent.futures.as_completed(
                [pool.submit(prepare, service) for service in SERVICES]
            ):
                service, seconds = done.result()
                progress.report(f"migrated {service}", seconds)

    def ensure_service_clients(self) -> None:
        """Register each calling service with the users service (idempotent), side by side."""

        def register(client_id: str, scopes: list[str]) -> None:
            self.manage(
                "users", "ensure_service_client", client_id, "--scopes", *scopes,
                "--secret-file", str(self.var_dir / "secrets" / f"{client_id}-client-secret"),
                capture=True,
            )  # fmt: skip

        for client_id in SERVICE_CLIENTS:
            self.secret(f"{client_id}-client-secret")
        with concurrent.futures.ThreadPoolExecutor(len(SERVICE_CLIENTS)) as pool:
            for done in [pool.submit(register, *client) for client in SERVICE_CLIENTS.items()]:
                done.result()

    def seed_demo(self, admin_password: str) -> None:
        """Idempotent demo data: the staff account ``admin`` in the users service (it signs
        in to every service's admin, souk_common.staff), and a catalogue."""
        self.extra_env["DEMO_ADMIN_PASSWORD"] = admin_password
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            admin = pool.submit(self.manage, "users", "ensure_demo_admin", capture=True)
            catalogue = pool.submit(self.manage, "products", "seed_demo_catalogue", capture=True)
            admin.result()
            print(catalogue.result().strip(), flush=True)

    @property
    def admin_password(self) -> str:
        """The demo admin's password (once :meth:`seed_demo` has run)."""
        return self.extra_env["DEMO_ADMIN_PASSWORD"]

    def create_accounts(
        self, count: int, prefix: str, lifetime: float = 300
    ) -> list[tuple[int, str]]:
        """``count`` active accounts, each with an access token signed by the users service's key.

        Made in one statement by the users service (``create_test_accounts``: no password
        usable), with tokens minted by its own signing key: genuine RS256 tokens, without
        a sign-in per account. For tests and load runs.
        """
        output = self.manage(
            "users", "create_test_accounts", str(count), "--prefix", prefix, capture=True
        )
        ids = json.loads(output.strip().splitlines()[-1])
        factory = TokenFactory(SigningKey.from_pem(self.signing_key_path.read_text()))
        return [
            (user_id, factory.access(user_id=user_id, username=f"{prefix}{n}", lifetime=lifetime))
            for n, user_id in enumerate(ids)
        ]

    def prepare(self, *, admin_password: str | None = None) -> None:
        """Everything before the services start: databases, migrations, seeds; each step
        on a line of its own as it runs, with its number and time (the first start takes
        minutes, and should not spend them in silence)."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        # Counts start at zero with the processes: a previous run's files would add up.
        shutil.rmtree(self.metrics_dir, ignore_errors=True)
        postgres = any(
            url.startswith(("postgres://", "postgresql://")) for url in self.database_urls.values()
        )
        steps = 1 + postgres + len(SERVICES) + 1 + (admin_password is not None) + 1
        progress = Progress(steps)
        started = time.monotonic()
        first = not self.signing_key_path.exists()
        with progress.step("generating the signing key" if first else "reading the signing key"):
            key = ensure_private_key_file(self.signing_key_path)
            print(f"key {key.kid} in {self.signing_key_path}")
        if postgres:
            with progress.step("creating missing PostgreSQL databases"):
                self.create_databases()
        self.migrate(progress)
        with progress.step("registering the service clients with users"):
            self.ensure_service_clients()
        if admin_password is not None:
            with progress.step("seeding the demo admin and catalogue"):
                self.seed_demo(admin_password)
        with progress.step("declaring the consumers' queues"):
            self.declare_queues()
        print(f"prepared in {time.monotonic() - started:.1f} s", flush=True)

    def declare_queues(self, timeout: float = 60.0) -> None:
        """Each consumer's queue on the broker, bound to the exchanges it consumes from.

        A queue gets only what is published once it exists, and relays start with the
        consumers: so on a broker without it (a first start), the consumer runs here
        until the broker has its queue, then stops, finishing its declarations first.
        """
        for service in CONSUMERS:
            queue = f"souk.{service}"
            if queue_declared(self.broker_url, queue):
                continue
            with tempfile.TemporaryFile() as output:
                consumer = subprocess.Popen(
                    self.manage_command("consume_events"),
                    cwd=self.service_dir(service),
                    env=self.env(service),
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
                deadline = time.monotonic() + timeout
                try:
                    while not queue_declared(self.broker_url, queue):
                        if consumer.poll() is not None or time.monotonic() > deadline:
                            output.seek(0)
                            raise SystemExit(
                                f"{service}: consume_events did not declare {queue} "
                                f"at {masked(self.broker_url)}\n"
                                + output.read().decode(errors="replace")
                            )
                        time.sleep(0.2)
                finally:
                    if consumer.poll() is None:
                        consumer.terminate()  # it stops after its declarations and handling
                    consumer.wait(timeout=30)
            print(f"declared {queue}", flush=True)  # the banner says which broker

    # Processes ---------------------------------------------------------------------

    def server_command(self, service: str, *, listener: str | None = None) -> list[str]:
        """The WSGI server command line for a service (see docs/benchmarks.md for the choice),
        listening on the port of ``listener`` (a process name; the service's own by default)."""
        app = f"{PROJECT_PACKAGES[service]}.wsgi:application"
        port = str(self.ports[listener or service])
        workers = str(self.workers.get(service, DEFAULT_WORKERS))
        threads = str(self.threads.get(service, DEFAULT_THREADS.get(service, 8)))
        if self.servers.get(service, self.server) == "gunicorn":
            return [
                sys.executable, "-m", "gunicorn", app.replace(":application", ""),
                "--bind", f"{self.host}:{port}",
                "--workers", workers, "--worker-class", "gthread", "--threads", threads,
                "--log-level", "warning",
                # Whom to trust in X-Forwarded-* is the application's call, not gunicorn's.
                "--forwarded-allow-ips", "",
            ]  # fmt: skip
        return [
            sys.executable, "-m", "granian", app,
            "--interface", "wsgi", "--no-ws",
            "--host", self.host, "--port", port,
            "--workers", workers, "--blocking-threads", threads,
            # Its only warning says threads outnumber cores: intended, they wait on I/O.
            "--log-level", "error",
        ]  # fmt: skip

    def edge_command(self) -> list[str]:
        """The gateway's public listener: uvicorn with the edge's protocol (proxy/server.py)."""
        workers = str(self.workers.get("gateway", DEFAULT_WORKERS))
        return [
            sys.executable, "-m", "gateway_service.serve",
            "--host", self.host, "--port", str(self.ports["gateway"]), "--workers", workers,
        ]  # fmt: skip

    def reconciler_command(self) -> list[str]:
        """The orders recovery, run on a schedule (``RECONCILE_EVERY`` seconds, default 5)."""
        every = self.extra_env.get("RECONCILE_EVERY") or os.environ.get("RECONCILE_EVERY") or "5"
        return self.manage_command("reconcile_orders", "--every", every)

    def manage_command(self, *args: str) -> list[str]:
        """A ``manage.py`` command line, run from a service's folder (a relay, a consumer)."""
        return [sys.executable, "manage.py", *args]

    def command(self, process: str) -> tuple[list[str], Path, dict[str, str]]:
        """Command line, folder and environment of a process (a name in ``PROCESSES``)."""
        spec = PROCESSES[process]
        return spec.command(self), self.service_dir(spec.service), self.env(spec.service)

    def popen(self, process: str, log_path: Path) -> subprocess.Popen[bytes]:
        """Start a process in the background, its output appended to ``log_path``."""
        command, cwd, env = self.command(process)
        log = log_path.open("ab")
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, service: str, timeout: float = 60.0) -> None:
        """Wait until ``/health/ready`` of a service answers 200."""
        deadline = time.monotonic() + timeout
        url = self.url(service) + "/health/ready"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service} did not become ready at {url} in {timeout:.0f}s")
            time.sleep(0.2)


class RunningStack:
    """The processes of a stack that this program started, each logging to its own file."""

    def __init__(self, stack: Stack, log_dir: Path) -> None:
        self.stack = stack
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def gateway(self) -> str:
        return self.stack.url("gateway")

    def url(self, name: str) -> str:
        return self.stack.url(name)

    def log_path(self, process: str) -> Path:
        return self.log_dir / f"{process}.log"

    def log(self, process: str) -> str:
        return self.log_path(process).read_text(errors="replace")

    def start(self, process: str) -> None:
        """Start a process (a name in ``PROCESSES``); one with a port is ready on return."""
        self.processes[process] = self.stack.popen(process, self.log_path(process))
        if PROCESSES[process].port is not None:
            self.stack.wait_ready(process)

    def stop(self, process: str, sig: int = signal.SIGTERM) -> None:
        """Signal a process's whole group (its server workers too) and wait for it to end."""
        popen = self.processes.pop(process)
        os.killpg(popen.pid, sig)
        popen.wait(timeout=30)

    def pause(self, process: str) -> None:
        """SIGSTOP the whole process group: the service hangs with its sockets open."""
        os.killpg(self.processes[process].pid, signal.SIGSTOP)

    def resume(self, process: str) -> None:
        os.killpg(self.processes[process].pid, signal.SIGCONT)

    def stop_all(self) -> None:
        """Stop every process still running (one that ended on its own is let be)."""
        for process, popen in list(self.processes.items()):
            if popen.poll() is not None:
                del self.processes[process]
                continue
            self.resume(process)
            self.stop(process)


@contextlib.contextmanager
def throwaway_stack(
    scratch: Path,
    *,
    purpose: str,
    postgres: bool,
    broker_url: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    workers: Mapping[str, int] | None = None,
    processes: Iterable[str] = PROCESSES,
    running: Callable[[Stack, Path], RunningStack] = RunningStack,
) -> Iterator[RunningStack]:
    """A whole stack of one's own, gone afterwards: the system tests', a benchmark's, a load run's.

    On free ports, with its keys, secrets and logs (and SQLite files, without ``postgres``)
    under ``scratch``; with ``postgres``, on new databases ``souk_<purpose>_<service>_<run>``
    at ``POSTGRES_URL``. Its broker is ``broker_url`` (a RabbitMQ virtual host of its own,
    say: ``databases.scratch_vhost``), else the embedded one, a file under ``scratch``.
    Prepared with a demo admin (password in ``stack.admin_password``) and catalogue, its
    consumers' queues declared; ``processes`` started, those with a port ready. Afterwards
    every process is stopped and the databases are dropped. ``running`` makes the
    :class:`RunningStack` handed out.
    """
    database_urls = scratch_database_urls(purpose) if postgres else {}
    stack = Stack(
        var_dir=scratch / "var",
        ports={name: free_port() for name in DEFAULT_PORTS},
        database_urls=database_urls,
        extra_env=dict(extra_env or {}),
        workers=dict(workers or {}),
        broker_url=broker_url or "",
    )
    with contextlib.ExitStack() as afterwards:  # undone in reverse, each whatever the others do
        for url in database_urls.values():
            afterwards.callback(drop_postgres_database, url)
        started = running(stack, scratch / "logs")
        afterwards.callback(started.stop_all)
        stack.prepare(admin_password=secrets.token_urlsafe(12))
        for process in processes:
            started.start(process)
        yield started


if __name__ == "__main__" and sys.argv[1:2] == ["up"]:
    # `python tools/stack.py up`, as before `nox -s up`'s command line moved to up.py
    # (tests/faults/test_supervision.py runs it so).
    from up import main

    sys.exit(main(sys.argv[2:]))
