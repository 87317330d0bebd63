"""The system-test harness: a started stack of real service processes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from stack import Stack


class RunningStack:
    """A started stack, with its processes, logs and a client for the gateway."""

    def __init__(self, stack: Stack, log_dir: Path) -> None:
        self.stack = stack
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.http = requests.Session()

    @property
    def gateway(self) -> str:
        return self.stack.url("gateway")

    def url(self, service: str) -> str:
        return self.stack.url(service)

    def log_path(self, service: str) -> Path:
        return self.log_dir / f"{service}.log"

    def log(self, service: str) -> str:
        return self.log_path(service).read_text(errors="replace")

    def start(self, service: str) -> None:
        self.processes[service] = self.stack.popen(service, self.log_path(service))
        self.stack.wait_ready(service)

    def stop(self, service: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(service)
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def pause(self, service: str) -> None:
        """SIGSTOP the whole process group: the service hangs with its sockets open."""
        os.killpg(self.processes[service].pid, signal.SIGSTOP)

    def resume(self, service: str) -> None:
        os.killpg(self.processes[service].pid, signal.SIGCONT)

    def stop_all(self) -> None:
        for service in list(self.processes):
            self.resume(service)
            self.stop(service)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


PASSWORD = "e2e-correct-horse-battery"


def register_and_sign_in(system: RunningStack, username: str) -> dict[str, str]:
    """A new account through the gateway; its token pair."""
    response = system.http.post(
        f"{system.gateway}/api/users/",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return sign_in(system, username)


def sign_in(system: RunningStack, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = system.http.post(
        f"{system.gateway}/api/auth/token/",
        json={"username": username, "password": password},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
