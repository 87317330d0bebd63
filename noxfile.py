"""Souk's one entry point: `nox -s up` runs the system, `nox` runs every test and check."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = [
    "lint",
    "typecheck",
    "lib",
    "tests",
    "migrations",
    "compose",
    "e2e",
    "faults",
    "fuzz",
]

SERVICES = ("users", "products", "orders", "gateway")
DEV = {"SOUK_ENV": "development"}
LINT_TOOLS = ("ruff>=0.9,<0.18", "import-linter>=2.1,<3")
TYPE_TOOLS = (
    "types-django-filter>=24",
    "mypy>=1.15,<3",
    "django-stubs[compatible-mypy]>=5.1,<7",
    "djangorestframework-stubs>=3.15,<4",
)


def install(session: nox.Session, *services: str, test: bool = True) -> None:
    """Install souk-common (editable) and the given services with their test extras."""
    extra = "[test]" if test else ""
    args = ["-e", f"libs/common{extra}"]
    for service in services:
        args += ["-e", f"services/{service}{extra}"]
    session.install(*args)


@nox.session
def up(session: nox.Session) -> None:
    """Run the four services on 8000-8003 (SQLite under var/ by default) until Ctrl-C."""
    install(session, *SERVICES, test=False)
    # Ctrl-C reaches both: nox waits while the supervisor stops every process (<= 10 s).
    session.run("python", "tools/stack.py", "up", *session.posargs, interrupt_timeout=20)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and the import contracts between packages."""
    session.install(*LINT_TOOLS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    install(session, *SERVICES, test=False)
    session.run("lint-imports")
    session.run("python", "tools/check_security_map.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy: strict on souk_common, with the Django and DRF plugins on each service."""
    install(session, *SERVICES)
    session.install(*TYPE_TOOLS)
    session.chdir("libs/common")
    lib_env = DEV | {"DJANGO_SETTINGS_MODULE": "tests.settings"}
    session.run("mypy", "--config-file", "../../pyproject.toml", "--strict", "src", env=lib_env)
    session.chdir("../..")
    for service in SERVICES:
        # From the service folder, so its packages resolve as they do at run time.
        session.chdir(f"services/{service}")
        settings = {"DJANGO_SETTINGS_MODULE": f"{service}_service.settings"}
        session.run("mypy", "--config-file", "../../pyproject.toml", ".", env=DEV | settings)
        session.chdir("../..")


@nox.session
def lib(session: nox.Session) -> None:
    """souk_common's own tests."""
    install(session)
    session.chdir("libs/common")
    session.run("pytest", *session.posargs)


@nox.session
@nox.parametrize("service", SERVICES)
def tests(session: nox.Session, service: str) -> None:
    """One service's tests, from its own folder with its own settings."""
    install(session, service)
    session.chdir(f"services/{service}")
    session.run("pytest", *session.posargs)


@nox.session
def migrations(session: nox.Session) -> None:
    """Every model change has its migration."""
    install(session, *SERVICES, test=False)
    for service in SERVICES:
        session.chdir(f"services/{service}")
        session.run(
            "python", "manage.py", "makemigrations", "--check", "--dry-run",
            env={"SOUK_ENV": "development", "SOUK_VAR_DIR": session.create_tmp()},
        )  # fmt: skip
        session.chdir("../..")


@nox.session
def compose(session: nox.Session) -> None:
    """compose.yaml against the Compose Specification schema kept in tools/."""
    session.install("check-jsonschema>=0.29,<1")
    session.run("check-jsonschema", "--schemafile", "tools/compose-spec.json", "compose.yaml")


@nox.session
def e2e(session: nox.Session) -> None:
    """The four services as real processes on PostgreSQL, driven through the gateway."""
    install(session, *SERVICES)
    # PyYAML: test_compose.py reads compose.yaml.
    session.install("requests>=2.32,<3", "pyyaml>=6,<7")
    session.run("pytest", "tests/e2e", *session.posargs)


@nox.session
def faults(session: nox.Session) -> None:
    """Services hung, killed and restarted mid-traffic: every order ends settled, no stock lost."""
    install(session, *SERVICES)
    session.install("requests>=2.32,<3")
    session.run("pytest", "tests/faults", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """Schemathesis against every service's schema, and the authorization matrix."""
    install(session, *SERVICES)
    session.install("requests>=2.32,<3", "schemathesis>=4.0,<5")
    session.run("pytest", "tests/fuzz", *session.posargs)


@nox.session
def load(session: nox.Session) -> None:
    """Locust through the gateway on PostgreSQL; results into docs/benchmarks.md (not in `nox`)."""
    install(session, *SERVICES, test=False)
    session.install("requests>=2.32,<3", "locust>=2.30,<3")
    session.run("python", "tools/load/run.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks written to docs/benchmarks.md: `-- servers|clients|gateway [options]`
    (needs wrk; `-- gateway --baseline <commit>` also measures another commit's gateway)."""
    install(session, *SERVICES, test=False)
    session.install("gunicorn>=23,<28", "requests>=2.32,<3", "aiohttp>=3.10,<4", "httpx>=0.27,<1")
    if session.posargs:
        session.run("python", "tools/bench.py", *session.posargs)
        return
    for which in ("servers", "clients", "gateway"):
        session.run("python", "tools/bench.py", which)
