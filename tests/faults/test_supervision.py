"""`nox -s up` supervises: a service killed with SIGKILL comes back, Ctrl-C leaves nothing
running; and with nothing but Python, its events reach the mail folder.

The real ``python tools/stack.py up``, on free ports with SQLite in a temporary
``SOUK_VAR_DIR``; every process of that stack is found by that directory in its
environment, wherever it was reparented.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from harness import wait_for
from stack import DEFAULT_PORTS, REPO, SERVICES, Stack, free_port, port_variable
from supervisor import Backoff, how_it_ended


@dataclass(frozen=True)
class Seen:
    """A live process, as /proc shows it."""

    parent: int
    group: int
    command: str


def stack_processes(var_dir: Path) -> dict[int, Seen]:
    """Every live process whose SOUK_VAR_DIR is ``var_dir``, by pid."""
    marker = f"SOUK_VAR_DIR={var_dir}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, parent, group = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
            if state == "Z" or marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError, PermissionError):  # not ours
            continue
        found[int(entry.name)] = Seen(int(parent), int(group), command)
    return found


def started_pid(log: str, name: str) -> int:
    """The pid the supervisor last said it started a process with."""
    pids = re.findall(rf"\| {name} (?:re)?started \(pid (\d+)\)", log)
    assert pids, f"the log never says {name} started:\n{log}"
    return int(pids[-1])


@pytest.fixture
def up(tmp_path: Path):
    """``python tools/stack.py up`` running; its stack, process, log and var dir."""
    var_dir = tmp_path / "var"
    stack = Stack(var_dir=var_dir, ports={name: free_port() for name in DEFAULT_PORTS})
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith(("_DATABASE_URL", "_PORT"))
    }
    env.update({port_variable(name): str(port) for name, port in stack.ports.items()})
    env.update(SOUK_VAR_DIR=str(var_dir), DEMO_ADMIN_PASSWORD="supervision-test-pw")
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "tools/stack.py", "up"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield stack, process, log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in stack_processes(var_dir):
            os.kill(pid, signal.SIGKILL)


def wait_until_ready(stack: Stack, process: subprocess.Popen[bytes], log_path: Path) -> None:
    for service in SERVICES:
        assert process.poll() is None, log_path.read_text()
        stack.wait_ready(service, timeout=120)


def test_a_killed_service_is_restarted_and_ctrl_c_stops_everything(up):
    stack, process, log_path = up
    wait_until_ready(stack, process, log_path)
    killed = started_pid(log_path.read_text(), "products")
    assert stack_processes(stack.var_dir)[killed].parent == process.pid

    os.kill(killed, signal.SIGKILL)

    said = wait_for(
        lambda: re.search(
            rf"products \(pid {killed}\) was killed by SIGKILL after [\d.]+ s; "
            r"restarting in 1 s\n[\s\S]*?products restarted \(pid (\d+)\)",
            log_path.read_text(),
        ),
        timeout=15,
    )
    assert int(said.group(1)) != killed
    stack.wait_ready("products", timeout=60)
    assert stack_processes(stack.var_dir)[int(said.group(1))].parent == process.pid
    # Its workers went with it: nothing of the old process group is left.
    assert not [seen for seen in stack_processes(stack.var_dir).values() if seen.group == killed]
    # The others were never stopped.
    assert re.findall(r"\| (\S+) restarted", log_path.read_text()) == ["products"]
    for service in ("users", "orders", "gateway"):
        stack.wait_ready(service, timeout=5)

    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=30) == 0
    log = log_path.read_text()
    assert "SIGINT received: stopping every process" in log
    assert wait_for(lambda: not stack_processes(stack.var_dir), timeout=5)


def test_events_cross_processes_through_the_embedded_broker_into_mail_under_var(up):
    """No broker, no mail server: a sign-up's event goes from users' outbox through the
    relay and the embedded broker's file to the notifications consumer, and its welcome
    mail is written under var/mail/."""
    stack, process, log_path = up
    wait_until_ready(stack, process, log_path)
    username = "embedded-events"

    response = requests.post(
        f"{stack.url('gateway')}/api/users/",
        json={"username": username, "email": f"{username}@example.com", "password": "a-Long-pw-42"},
        timeout=10,
    )

    assert response.status_code == 201, response.text
    mail_dir = stack.var_dir / "mail"
    welcome = f"Subject: Welcome to Souk, {username}"
    wait_for(
        lambda: mail_dir.is_dir() and any(welcome in f.read_text() for f in mail_dir.iterdir()),
        timeout=60,
    )
    assert (stack.var_dir / "broker.sqlite3").is_file()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


def test_restarts_back_off_from_1_to_30_seconds():
    assert [Backoff().delay(failures) for failures in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_the_log_says_how_a_process_ended():
    assert how_it_ended(-9) == "was killed by SIGKILL"
    assert how_it_ended(3) == "exited with code 3"
