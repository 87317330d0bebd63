"""`nox -s up`: the services, the orders reconciler, the event relays and consumers in one
terminal, until Ctrl-C.

``python tools/up.py``, inside a virtualenv that has every service installed, prepares
the stack (``stack.py``: keys, databases, migrations, service clients, demo data, the
consumers' queues) and runs every process under the supervisor (``supervisor.py``), its
output prefixed with its name; a process that dies is restarted with backoff.

Ports, databases, the broker, mail and the state folder come from the environment:
``<NAME>_PORT`` (8000-8007, 8009, and 8080 for the storefront, by default),
``<SERVICE>_DATABASE_URL`` (SQLite files under the state folder by default),
``BROKER_URL`` (the embedded broker, a file under the state folder, by default),
``EMAIL_URL`` (files under ``<state folder>/mail/`` by default), ``SOUK_VAR_DIR``
(``var/``), ``DEMO_ADMIN_PASSWORD`` (generated once).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from stack import (
    CONSUMERS,
    DEFAULT_PORTS,
    PROCESSES,
    RELAYS,
    REPO,
    SERVICES,
    STOREFRONT,
    Stack,
    masked,
    port_variable,
)
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
    return Stack(
        var_dir=var_dir, ports=ports, database_urls=urls, broker_url=environ.get("BROKER_URL", "")
    )


def broker_line(stack: Stack) -> str:
    """Where events travel, for the banner: the embedded broker's file, or RabbitMQ's URL."""
    if stack.broker_url.startswith("sqlite:"):
        return f"embedded, in {stack.broker_url.removeprefix('sqlite:///')} (no server)"
    return f"RabbitMQ at {masked(stack.broker_url)}"


def mail_line(stack: Stack, environ: Mapping[str, str] = os.environ) -> str:
    """Where the services' mail goes, for the banner: files under var/mail/, or EMAIL_URL."""
    url = environ.get("EMAIL_URL", "")
    if not url:
        return f"files in {stack.var_dir / 'mail'}/"
    return f"through {masked(url)}"


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


def announce_ready(supervisor: Supervisor, stack: Stack, began: float) -> None:
    """Say once, when every process with a port answers its /health/ready, how long the start
    took: the moment to try README.md's walkthrough. (Each asked directly: the gateway's
    /health would log an error for each 503 it answers while the others start.)"""
    try:
        for name in DEFAULT_PORTS:
            stack.wait_ready(name, timeout=600)
    except TimeoutError as exc:
        supervisor.say("supervisor", f"not ready after 10 minutes: {exc}")
        return
    supervisor.say(
        "supervisor",
        f"ready: every service answers; the shop is {stack.url(STOREFRONT)}, "
        f"the API {stack.url('gateway')} "
        f"({time.monotonic() - began:.0f} s after preparing began)",
    )


def up() -> int:
    """Prepare and run every process in this terminal, restarting any that dies, until Ctrl-C."""
    began = time.monotonic()
    stack = stack_from_environment()
    stack.var_dir.mkdir(parents=True, exist_ok=True)
    password, origin = demo_admin_password(stack.var_dir)
    stack.prepare(admin_password=password)

    programs = [Program(name, *stack.command(name)) for name in PROCESSES]
    database = {
        s: ("PostgreSQL " + masked(stack.database_urls[s]))
        if s in stack.database_urls
        else f"SQLite {stack.var_dir / (s + '.sqlite3')}"
        for s in SERVICES
    } | {STOREFRONT: "no database: sessions in a signed cookie"}
    width = max(map(len, DEFAULT_PORTS))
    table = "\n".join(
        f"  {name:<{width}} {stack.url(name):<24} {database.get(name, '')}".rstrip()
        for name in sorted(DEFAULT_PORTS, key=DEFAULT_PORTS.__getitem__)
    )
    print(
        f"\nSouk is starting (a process that dies is restarted; Ctrl-C stops everything):\n"
        f"{table}\n\n"
        f"  Shop:   {stack.url(STOREFRONT)} in a browser\n"
        f"  Events: {broker_line(stack)}\n"
        f"          relayed from {', '.join(RELAYS)} to {', '.join(CONSUMERS)}\n"
        f"  Mail:   {mail_line(stack)}\n"
        f"  Admin:  user 'admin', password '{password}' ({origin}); "
        f"each service's admin is at <its address>/admin/\n"
        f"  Try:    curl {stack.url('gateway')}/health, then README.md's walkthrough\n",
        flush=True,
    )
    supervisor = Supervisor(programs)
    threading.Thread(target=announce_ready, args=(supervisor, stack, began), daemon=True).start()
    return supervisor.run()


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)
    return up()


if __name__ == "__main__":
    sys.exit(main())
