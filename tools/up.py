"""`nox -s up`: the four services and the orders reconciler in one terminal, until Ctrl-C.

``python tools/up.py``, inside a virtualenv that has every service installed, prepares
the stack (``stack.py``: keys, databases, migrations, service clients, demo data) and
runs every process under the supervisor (``supervisor.py``), its output prefixed with
its name; a process that dies is restarted with backoff.

Ports, databases and the state folder come from the environment: ``<NAME>_PORT``
(8000-8003, 8009 by default), ``<SERVICE>_DATABASE_URL`` (SQLite files under the state
folder by default), ``SOUK_VAR_DIR`` (``var/``), ``DEMO_ADMIN_PASSWORD`` (generated once).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from stack import DEFAULT_PORTS, PROCESSES, REPO, SERVICES, Stack, port_variable
from supervisor import Program, Supervisor


def stack_from_environment(environ: Mapping[str, str] = os.environ) -> Stack:
    """The stack `nox -s up` runs: default ports and SQLite, overridable by environment."""
    ports = {
        name: int(environ.get(port_variable(name)) or port) for name, port in DEFAULT_PORTS.items()
    }
    urls = {
        name: environ[f"{name.upper()}_DATABASE_URL"]
        for name in SERVICES
        if environ.get(f"{name.upper()}_DATABASE_URL")
    }
    var_dir = Path(environ.get("SOUK_VAR_DIR") or REPO / "var")
    return Stack(var_dir=var_dir, ports=ports, database_urls=urls)


def demo_admin_password(var_dir: Path) -> tuple[str, str]:
    """DEMO_ADMIN_PASSWORD, or one generated once and kept in var/; and where it came from."""
    configured = os.environ.get("DEMO_ADMIN_PASSWORD", "")
    if configured:
        return configured, "from DEMO_ADMIN_PASSWORD"
    stored = var_dir / "demo-admin-password"
    if not stored.exists():
        stored.write_text(secrets.token_urlsafe(12) + "\n")
        stored.chmod(0o600)
    return stored.read_text().strip(), f"generated, kept in {stored}"


def up() -> int:
    """Prepare and run every process in this terminal, restarting any that dies, until Ctrl-C."""
    stack = stack_from_environment()
    stack.var_dir.mkdir(parents=True, exist_ok=True)
    password, origin = demo_admin_password(stack.var_dir)
    stack.prepare(admin_password=password)

    programs = [Program(name, *stack.command(name)) for name in PROCESSES]
    database = {
        s: ("PostgreSQL " + stack.database_urls[s])
        if s in stack.database_urls
        else f"SQLite {stack.var_dir / (s + '.sqlite3')}"
        for s in SERVICES
    }
    table = "\n".join(
        f"  {name:<9} {stack.url(name):<24} {database.get(name, '')}".rstrip()
        for name in sorted(DEFAULT_PORTS, key=DEFAULT_PORTS.__getitem__)
    )
    print(
        f"\nSouk is starting (a process that dies is restarted; Ctrl-C stops everything):\n"
        f"{table}\n\n"
        f"  Admin: user 'admin', password '{password}' ({origin}); "
        f"each service's admin is at <its address>/admin/\n"
        f"  Try:   curl {stack.url('gateway')}/health\n",
        flush=True,
    )
    return Supervisor(programs).run()


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)
    return up()


if __name__ == "__main__":
    sys.exit(main())
