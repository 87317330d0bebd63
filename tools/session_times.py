"""Print how long each nox session took, from a ``nox --report`` file (`.ci/run` ends with it).

    python tools/session_times.py REPORT.json [--total SECONDS]

nox's own summary rounds ("took a minute"); this prints seconds, the sessions added up
and, with ``--total``, the whole run's wall-clock time (less than the sum when sessions
ran side by side).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def clock(seconds: float) -> str:
    """``754.2`` as ``12:34``."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def table(sessions: list[dict[str, Any]], total: float | None) -> str:
    """One line a session (``tests(service='users')``, not ``tests``), then the totals."""
    rows = [
        (
            (session.get("signatures") or [session["name"]])[0],
            float(session["duration"]),
            session["result"],
        )
        for session in sessions
    ]
    added = sum(duration for _, duration, _ in rows)
    rows += [("sessions, added up", added, "")]
    if total is not None:
        rows += [("the whole run, wall clock", total, "")]
    width = max(len(name) for name, _, _ in rows)
    lines = [
        f"  {name:<{width}}  {clock(duration):>6}  {duration:7.1f} s  {result}".rstrip()
        for name, duration, result in rows
    ]
    return "\n".join(["Time per nox session:", *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="the file `nox --report` wrote")
    parser.add_argument("--total", type=float, help="the whole run's wall-clock seconds")
    args = parser.parse_args(argv)
    try:
        sessions = json.loads(args.report.read_text())["sessions"]
    except (OSError, ValueError, KeyError) as error:
        sessions = []
        print(f"no session times: nox wrote no report ({error})")
    print(table(sessions, args.total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
