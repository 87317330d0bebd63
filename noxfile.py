"""Souk's one entry point: `nox -s up` runs the system, `nox` runs every test and check.

The checks and the system tests share one virtualenv, made once by the `venv` session
that each of them requires; the library's and each service's tests keep one of their
own, with souk_common and that one service alone, so a dependency a package uses but
does not declare fails there. `nox --parallel auto` (what CI runs) runs the sessions
that allow it side by side; the system tests, which measure latencies, always run alone.

Every session installs what uv.lock pins, packages and tools alike, with `uv sync
--locked`: the same versions on every machine, and an error, never a silent new
resolution, when a pyproject.toml has changed since the last `uv lock`.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nox

# --parallel and allow_parallel= (sessions side by side) came with 2026.8.10.
nox.needs_version = ">=2026.8.10"


def uv_binary() -> str:
    """uv: the one on PATH, else the one beside nox, installed there now if there is none
    (`python3 -m pip install nox` is all a machine needs before `nox -s up`)."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        print("nox: installing uv beside nox (it makes every virtualenv from uv.lock)")
        pip = [sys.executable, "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "uv>=0.13,<1"], check=True)  # what reads uv.lock
        importlib.invalidate_caches()
        from uv import find_uv_bin
    return str(find_uv_bin())


UV = uv_binary()
# uv makes a virtualenv and fills it from uv.lock (and its cache) in seconds.
nox.options.default_venv_backend = "uv"
# typecheck first: the longest of the checks, it should not be the last to start.
nox.options.sessions = [
    "typecheck",
    "lint",
    "lib",
    "tests",
    "sqlite",
    "migrations",
    "compose",
    "k8s",
    "system",
]

SERVICES = (
    "users",
    "products",
    "orders",
    "gateway",
    "notifications",
    "cart",
    "payments",
    "shipping",
    "storefront",
)
SYSTEM_SUITES = ("e2e", "faults", "fuzz")
DEV = {"SOUK_ENV": "development"}
# The tools are dependency groups of the root pyproject.toml ([dependency-groups]), locked
# with the packages: a tool is one line there, then `uv lock`.
CHECK_TOOLS = ("lint", "typecheck", "system")
SHARED_VENV = "venv"
HERE = Path(__file__).resolve().parent


def packages(*services: str, test: bool = True) -> list[str]:
    """What :func:`sync` installs: the given services, or souk-common alone, editable,
    with what they depend on (souk-common, for a service) and their test extras."""
    names = [f"souk-{service}" for service in services] or ["souk-common"]
    return [
        *(f"--package={name}" for name in names),
        *(["--extra=test"] if test else []),
    ]


def tools(*groups: str) -> list[str]:
    """What :func:`sync` installs beside the packages: these groups of tools."""
    return [f"--group={group}" for group in groups]


def sync(session: nox.Session, *selection: str) -> None:
    """Make the session's virtualenv hold exactly what uv.lock pins for ``selection``
    (:func:`packages`, :func:`tools`) and nothing else. --locked: a lock the pyproject.toml
    files have left behind is an error that says to run `uv lock`."""
    session.run_install(
        UV, "sync", "--locked", "--no-default-groups", *selection,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location}, external=True,
    )  # fmt: skip


def in_shared_venv(**options: Any) -> Callable[[Callable[[nox.Session], None]], Any]:
    """A session that runs its programs from the shared virtualenv (see :func:`shared`)."""
    return nox.session(venv_backend="none", requires=[SHARED_VENV], **options)


def shared(session: nox.Session, program: str, *args: str, **kwargs: Any) -> None:
    """Run ``program`` of the shared virtualenv, as if it were activated."""
    # In nox's folder of virtualenvs (.nox unless --envdir), where it keeps its cache;
    # from here, as the session may have moved to another folder.
    venv = (HERE / session.cache_dir).parent / SHARED_VENV
    env = {
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        **kwargs.pop("env", {}),
    }
    session.run(str(venv / "bin" / program), *args, env=env, **kwargs)


@nox.session(name=SHARED_VENV, reuse_venv=True)
def venv(session: nox.Session) -> None:
    """The virtualenv the checks and the system tests share: every package and tool, once.
    Kept between runs; installing again brings it up to date."""
    sync(session, *packages(*SERVICES), *tools(*CHECK_TOOLS))


@nox.session
def up(session: nox.Session) -> None:
    """Run the whole system until Ctrl-C: the services on 8000-8007 (SQLite under var/ by
    default), their relays and consumers, and the storefront on 8080."""
    sync(session, *packages(*SERVICES, test=False))
    # Ctrl-C reaches both: nox waits while the supervisor stops every process (<= 10 s).
    session.run("python", "tools/up.py", *session.posargs, interrupt_timeout=20)


@in_shared_venv(allow_parallel=True)
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and the import contracts between packages."""
    shared(session, "ruff", "check", ".")
    shared(session, "ruff", "format", "--check", ".")
    shared(session, "lint-imports")
    shared(session, "python", "tools/check_security_map.py")


@in_shared_venv(allow_parallel=True)
def typecheck(session: nox.Session) -> None:
    """mypy: strict on souk_common, with the Django and DRF plugins on each service."""
    session.chdir("libs/common")
    lib_env = DEV | {"DJANGO_SETTINGS_MODULE": "tests.settings"}
    shared(session, "mypy", "--config-file", "../../pyproject.toml", "--strict", "src", env=lib_env)
    session.chdir("../..")
    for service in SERVICES:
        # From the service folder, so its packages resolve as they do at run time.
        session.chdir(f"services/{service}")
        settings = {"DJANGO_SETTINGS_MODULE": f"{service}_service.settings"}
        shared(session, "mypy", "--config-file", "../../pyproject.toml", ".", env=DEV | settings)
        session.chdir("../..")


@nox.session(allow_parallel=True)
@nox.parametrize("service", ["products", "orders"])
def sqlite(session: nox.Session, service: str) -> None:
    """The tests of the services with the big lists, on SQLite (the database of `nox -s up`):
    the count rule and the cursors work there too; PostgreSQL-only tests are skipped."""
    sync(session, *packages(service))
    session.chdir(f"services/{service}")
    session.run("pytest", *session.posargs, env={"SOUK_TEST_DATABASE": "sqlite"})


@nox.session(allow_parallel=True)
def lib(session: nox.Session) -> None:
    """souk_common's own tests, with souk_common alone installed."""
    sync(session, *packages())
    session.chdir("libs/common")
    session.run("pytest", *session.posargs)


@nox.session(allow_parallel=True)
@nox.parametrize("service", SERVICES)
def tests(session: nox.Session, service: str) -> None:
    """One service's tests, from its own folder with its own settings and packages."""
    sync(session, *packages(service))
    session.chdir(f"services/{service}")
    session.run("pytest", *session.posargs)


@in_shared_venv(allow_parallel=True)
def migrations(session: nox.Session) -> None:
    """Every model change has its migration."""
    for service in SERVICES:
        session.chdir(f"services/{service}")
        shared(
            session, "python", "manage.py", "makemigrations", "--check", "--dry-run",
            env={"SOUK_ENV": "development", "SOUK_VAR_DIR": session.create_tmp()},
        )  # fmt: skip
        session.chdir("../..")


@in_shared_venv(name="new-service")
def new_service(session: nox.Session) -> None:
    """A new service, whole and registered everywhere: `-- <name> [--port N]` (not in `nox`).

    tools/new_service.py writes it, registers it and makes its first migration; uv.lock
    takes in the new workspace member; then the shared virtualenv installs it, so the
    checks see it at once."""
    shared(session, "python", "tools/new_service.py", *session.posargs)
    session.run("uv", "lock", external=True)
    # The shared virtualenv installs the packages noxfile.py lists now: the new one too.
    envdir = (HERE / session.cache_dir).parent
    session.run(
        sys.executable, "-m", "nox", "-f", str(HERE / "noxfile.py"), "--envdir", str(envdir),
        "-s", SHARED_VENV, external=True,
    )  # fmt: skip


@nox.session(allow_parallel=True)
def compose(session: nox.Session) -> None:
    """compose.yaml against the Compose Specification schema kept in tools/."""
    sync(session, "--only-group=compose")
    session.run("check-jsonschema", "--schemafile", "tools/compose-spec.json", "compose.yaml")


@nox.session(allow_parallel=True)
def k8s(session: nox.Session) -> None:
    """deploy/k8s rendered by kubectl kustomize, each overlay: every object valid for the
    Kubernetes version its README names, and the policies (probes, limits, users, flows)."""
    sync(session, "--only-group=k8s")
    # Alone: the system tests' conftest.py above it needs what this session does not install.
    session.run("pytest", "tests/k8s", "--confcutdir=tests/k8s", *session.posargs)


# The system suites start the four services as processes and time their answers: they
# never run beside another session (no allow_parallel).


@in_shared_venv()
def system(session: nox.Session) -> None:
    """The e2e, faults and fuzz suites in that order, on one stack (what `nox` runs)."""
    shared(session, "pytest", *(f"tests/{suite}" for suite in SYSTEM_SUITES), *session.posargs)


@in_shared_venv()
def e2e(session: nox.Session) -> None:
    """The four services as real processes on PostgreSQL, driven through the gateway."""
    shared(session, "pytest", "tests/e2e", *session.posargs)


@in_shared_venv()
def faults(session: nox.Session) -> None:
    """Services hung, killed and restarted mid-traffic: every order ends settled, no stock lost."""
    shared(session, "pytest", "tests/faults", *session.posargs)


@in_shared_venv()
def fuzz(session: nox.Session) -> None:
    """Schemathesis against every service's schema, and the authorization matrix."""
    shared(session, "pytest", "tests/fuzz", *session.posargs)


@nox.session
def load(session: nox.Session) -> None:
    """Locust through the gateway on PostgreSQL, mail timed at an SMTP server of its own;
    results into docs/benchmarks.md (not in `nox`). `-- --baseline <commit>` measures
    order placement against another commit's orders service, side by side;
    `-- --scenario checkout` carts checked out, timed from the 202 to paid;
    `-- --scenario memory` every process's memory, idle and over ten minutes of load;
    `-- --scenario flash` a flash sale on one product against orders spread over many;
    `-- --scenario tax` order placement against one Django view on one database."""
    sync(session, *packages(*SERVICES, test=False), *tools("load"))
    session.run("python", "tools/load/run.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks written to docs/benchmarks.md: `-- servers|clients|gateway|relay|choices|gzip
    [options]` (needs wrk; `-- gateway --baseline <commit>` also measures another commit's
    gateway; `-- relay` the events relay on RabbitMQ and the embedded broker; `-- choices`
    hand-written pieces against the libraries that could replace them, python-ipware too;
    `-- gzip` what compressing the API's answers saves; `-- catalogue|orders [--large N]`
    each list query at 10,000 and at a million rows, not run without its name)."""
    sync(session, *packages(*SERVICES, test=False), *tools("bench"))
    if session.posargs[:1] in (["catalogue"], ["orders"]):
        session.run("python", "tools/bench_scale.py", *session.posargs)
        return
    if session.posargs:
        session.run("python", "tools/bench.py", *session.posargs)
        return
    for which in ("servers", "clients", "gateway", "relay", "choices", "gzip"):
        session.run("python", "tools/bench.py", which)
