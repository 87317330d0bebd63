"""A small process supervisor for one terminal: what keeps `nox -s up` running.

Each program runs in its own process group, its output prefixed with the time and
its name (coloured on a terminal). A program that ends on its own is restarted,
after 1 s, then 2, 4... up to 30 s while it keeps failing; a program that stayed
up for 30 s starts again from 1 s. SIGINT (Ctrl-C), SIGTERM and SIGHUP stop every
program: SIGTERM to each whole process group, SIGKILL to what is left after a
grace period or at a second Ctrl-C.

Written here because the libraries that restart processes (supervisord, circus)
are daemons with configuration files, and honcho, which runs a Procfile in a
terminal, stops everything when one process ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, TextIO

# Foreground colours for the name prefixes, as honcho cycles them.
COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")
NAME = "supervisor"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Program:
    """A command to keep running: its name in the log, command line, folder and environment."""

    name: str
    command: Sequence[str]
    cwd: Path
    env: Mapping[str, str]


@dataclass(frozen=True)
class Backoff:
    """How long to wait before restarting a program that ended."""

    first: float = 1.0
    longest: float = 30.0
    # A program that stayed up this long is healthy again: its next restart waits `first`.
    stable_after: float = 30.0

    def delay(self, failures: int) -> float:
        """The wait before the restart that follows ``failures`` failures in a row (1, 2, ...)."""
        return float(min(self.first * 2 ** max(failures - 1, 0), self.longest))


def how_it_ended(returncode: int) -> str:
    """``exited with code 1`` or ``was killed by SIGKILL``, from a Popen return code."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


@dataclass
class _Child:
    program: Program
    colour: str
    process: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float = 0.0
    starts: int = 0


class Supervisor:
    """Runs programs in this terminal, restarting any that ends, until told to stop."""

    def __init__(
        self,
        programs: Sequence[Program],
        *,
        out: TextIO = sys.stdout,
        backoff: Backoff | None = None,
        stop_grace: float = 10.0,
    ) -> None:
        self._children = [
            _Child(program, COLOURS[index % len(COLOURS)]) for index, program in enumerate(programs)
        ]
        self._out = out
        self._backoff = backoff or Backoff()
        self._stop_grace = stop_grace
        self._colour = out.isatty() and not os.environ.get("NO_COLOR")
        self._width = max([len(NAME), *(len(program.name) for program in programs)])
        self._write_lock = threading.Lock()
        self._stop_signal: int | None = None
        self._force = False

    # Output ----------------------------------------------------------------------

    def say(self, name: str, line: str, colour: str = "1") -> None:
        """Write one line prefixed with the time and ``name``."""
        prefix = f"{time.strftime('%H:%M:%S')} {name:<{self._width}} | "
        if self._colour:
            prefix = f"\033[{colour}m{prefix}\033[0m"
        # A closed terminal must not stop the readers: a child blocked on a full pipe would hang.
        with self._write_lock, contextlib.suppress(OSError, ValueError):
            self._out.write(prefix + line + "\n")
            self._out.flush()

    def _copy_output(self, child: _Child, stream: IO[bytes]) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                self.say(child.program.name, line, child.colour)

    # Running -------------------------------------------------------------------------

    def run(self) -> int:
        """Start every program and keep them running until SIGINT, SIGTERM or SIGHUP."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            for child in self._children:
                self._start(child)
            while self._stop_signal is None:
                now = time.monotonic()
                for child in self._children:
                    if child.process is not None and child.process.poll() is not None:
                        self._ended(child, now)
                    elif child.process is None and now >= child.restart_at:
                        self._start(child)
                time.sleep(0.1)
            name = signal.Signals(self._stop_signal).name
            self.say(NAME, f"{name} received: stopping every process")
        finally:
            # Whatever ended the loop, nothing this supervisor started outlives it.
            try:
                self._stop_all()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only flags: a handler that took a lock could interrupt the holder of that lock.
        if self._stop_signal is not None:
            self._force = True
        else:
            self._stop_signal = signum

    def _start(self, child: _Child) -> None:
        program = child.program
        child.starts += 1
        try:
            process = subprocess.Popen(
                list(program.command),
                cwd=program.cwd,
                env=dict(program.env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # Its own process group, so stopping it reaches its workers too.
                start_new_session=True,
            )
        except OSError as exc:
            child.failures += 1
            delay = self._backoff.delay(child.failures)
            child.restart_at = time.monotonic() + delay
            self.say(NAME, f"{program.name} could not start ({exc}); retrying in {delay:g} s")
            return
        child.process = process
        child.started_at = time.monotonic()
        assert process.stdout is not None
        child.reader = threading.Thread(
            target=self._copy_output, args=(child, process.stdout), daemon=True
        )
        verb = "started" if child.starts == 1 else "restarted"
        self.say(NAME, f"{program.name} {verb} (pid {process.pid})")
        child.reader.start()

    def _ended(self, child: _Child, now: float) -> None:
        process = child.process
        assert process is not None
        assert process.returncode is not None
        # What it started (server workers) dies with it, or the restart finds its port taken.
        _kill_group(process.pid, signal.SIGKILL)
        child.process = None
        uptime = now - child.started_at
        child.failures = 1 if uptime >= self._backoff.stable_after else child.failures + 1
        delay = self._backoff.delay(child.failures)
        child.restart_at = now + delay
        self.say(
            NAME,
            f"{child.program.name} (pid {process.pid}) {how_it_ended(process.returncode)} "
            f"after {uptime:.1f} s; restarting in {delay:g} s",
        )

    # Stopping --------------------------------------------------------------------

    def _stop_all(self) -> None:
        running = [child for child in self._children if child.process is not None]
        for child in running:
            assert child.process is not None
            _kill_group(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self._stop_grace
        while any(c.process.poll() is None for c in running if c.process is not None):
            if self._force or time.monotonic() > deadline:
                self.say(NAME, "killing what is still running (SIGKILL)")
                break
            time.sleep(0.05)
        for child in running:
            assert child.process is not None
            # Whatever of the group outlived its leader, or ignored SIGTERM.
            _kill_group(child.process.pid, signal.SIGKILL)
            child.process.wait()
            if child.reader is not None:
                child.reader.join(timeout=2)
            self.say(
                NAME,
                f"{child.program.name} (pid {child.process.pid}) "
                f"{how_it_ended(child.process.returncode)}",
            )


def _kill_group(pgid: int, sig: int) -> None:
    """Signal a process group, if anything of it is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
