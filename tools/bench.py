"""Benchmarks behind docs/benchmarks.md (`nox -s bench`).

Absolute numbers on a shared 2-core machine are noisy, so every comparison is
measured side by side in one run, in interleaved rounds, and reported as the
median of each contender together with the ratio between them.

    python tools/bench.py servers    # WSGI server choice for the services
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import wrk
from stack import REPO, Stack, free_port

DOC = REPO / "docs" / "benchmarks.md"


@dataclass
class Contender:
    """One configuration under test: how to start it and which URL to load."""

    name: str
    start: Callable[[], Callable[[], None]]  # returns its stopper
    url: str
    headers: dict[str, str] | None = None


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
                    results.setdefault((contender.name, count), []).append(result)
                    print(
                        f"round {round_number} {contender.name:<28} c={count:<3} "
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
            threads={"users": threads},
            extra_env=base.extra_env,
        )

        def start() -> Callable[[], None]:
            process = stack.popen("users", scratch / f"{name}.log")
            stack.wait_ready("users")

            def stop() -> None:
                process.terminate()
                process.wait(timeout=20)

            return stop

        return Contender(name, start, f"{stack.url('users')}/health/ready")

    contenders = [
        contender("granian (2 workers x 8 threads)", "granian", 8),
        contender("gunicorn gthread (2 x 8)", "gunicorn", 8),
        contender("gunicorn sync (2 x 1)", "gunicorn", 1),
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


def main() -> None:
    parser = argparse.ArgumentParser(description="Souk benchmarks")
    parser.add_argument("which", choices=["servers"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    if args.which == "servers":
        bench_servers(args.rounds, args.seconds)


if __name__ == "__main__":
    main()
