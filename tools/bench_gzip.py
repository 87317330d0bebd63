"""gzip or not: what compressing the catalogue's answers costs and saves (docs/benchmarks.md).

    python tools/bench_gzip.py [--rounds 300]        # inside flock /tmp/souk-system.lock

Starts a throwaway stack (users, products, the gateway; SQLite), adds products until
the catalogue has 100, then through the gateway on loopback times ``--rounds`` GETs
each of a 100-product page (``/api/products/?page_size=100``) and of one product
(``/api/products/<id>/``), with and without ``Accept-Encoding: gzip``: bytes on the
wire, median and 90th percentile. It also times the compression alone, in-process,
as the services do it (Django's ``compress_string``, level 6, padded).

A remote client cannot be measured on one machine without slowing every other
process's loopback, so its time is estimated from the bytes: the loopback time,
plus the round trips TCP slow start needs to deliver them (10 segments of 1448
bytes in the first, twice as many in each next), plus the bytes at the link's rate.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import requests
from django.utils.text import compress_string

from stack import throwaway_stack

# (name, bits per second, round-trip time in seconds) of the remote clients estimated.
LINKS = (("broadband, 50 Mbit/s, 20 ms", 50e6, 0.020), ("mobile, 10 Mbit/s, 60 ms", 10e6, 0.060))
SEGMENT = 1448
INITIAL_WINDOW = 10


def round_trips(size: int) -> int:
    """Round trips slow start needs to deliver ``size`` bytes (the first carries the request)."""
    trips, window, sent = 1, INITIAL_WINDOW * SEGMENT, 0
    while sent + window < size:
        sent += window
        window *= 2
        trips += 1
    return trips


def remote_ms(loopback_ms: float, size: int, bits_per_second: float, rtt: float) -> float:
    return loopback_ms + 1000 * (round_trips(size) * rtt + size * 8 / bits_per_second)


def timed(
    session: requests.Session, url: str, rounds: int, zipped: bool
) -> tuple[int, bool, list[float]]:
    """Bytes on the wire, whether they came gzipped, and each request's time (ms)."""
    headers = {"Accept-Encoding": "gzip" if zipped else "identity"}
    times, size, encoded = [], 0, False
    for _ in range(rounds):
        started = time.perf_counter()
        response = session.get(url, headers=headers, timeout=10, stream=True)
        raw = response.raw.read(decode_content=False)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        size, encoded = len(raw), response.headers.get("Content-Encoding") == "gzip"
    return size, encoded, times


def compression_ms(body: bytes, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        compress_string(body, max_random_bytes=100)
    return (time.perf_counter() - started) * 1000 / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="souk-bench-gzip-"))
    with throwaway_stack(
        scratch,
        purpose="benchgzip",
        postgres=False,
        extra_env={"GATEWAY_RATE_LIMIT_ENABLED": "false"},
        processes=("users", "products", "gateway"),
    ) as running:
        gateway = running.stack.url("gateway")
        session = requests.Session()
        token = session.post(
            f"{gateway}/api/auth/token/",
            json={"username": "admin", "password": running.stack.admin_password},
            timeout=15,
        ).json()["access"]
        count = session.get(f"{gateway}/api/products/", timeout=10).json()["count"]
        for number in range(count, 100):
            created = session.post(
                f"{gateway}/api/products/",
                json={
                    "sku": f"BENCH-{number}",
                    "name": f"Bench tea {number}",
                    "description": "A loose-leaf tea, picked in spring and rolled by hand.",
                    "price": "7.50",
                    "stock": 50,
                    "category": "tea",
                },
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert created.status_code == 201, created.text
        one = session.get(f"{gateway}/api/products/?page_size=1", timeout=10).json()
        pages = {
            "100 products": f"{gateway}/api/products/?page_size=100",
            "10 products": f"{gateway}/api/products/?page_size=10",
            "2 products": f"{gateway}/api/products/?page_size=2",
            "1 product (detail)": f"{gateway}/api/products/{one['results'][0]['id']}/",
        }
        rows = []
        for name, url in pages.items():
            body = session.get(url, headers={"Accept-Encoding": "identity"}, timeout=10).content
            would_be = len(compress_string(body, max_random_bytes=100))
            cost = compression_ms(body, args.rounds)
            for zipped in (False, True):
                size, encoded, times = timed(session, url, args.rounds, zipped)
                p50 = statistics.median(times)
                p90 = statistics.quantiles(times, n=10)[-1]
                remote = [remote_ms(p50, size, rate, rtt) for _, rate, rtt in LINKS]
                asked = "gzip" if zipped else "identity"
                rows.append(
                    (name, len(body), would_be, cost, asked, encoded, size, p50, p90, remote)
                )
    print(
        "| answer | JSON bytes | gzipped bytes | gzip takes (ms) | client accepts | sent gzipped "
        "| bytes sent | loopback p50 (ms) | loopback p90 (ms) | "
        + " | ".join(f"{link} (ms, est.)" for link, _, _ in LINKS)
        + " |"
    )
    print("|---|---:|---:|---:|---|---|---:|---:|---:|" + "---:|" * len(LINKS))
    for name, plain, would_be, cost, asked, encoded, size, p50, p90, remote in rows:
        print(
            f"| {name} | {plain} | {would_be} | {cost:.2f} | {asked} | "
            f"{'yes' if encoded else 'no'} | {size} | {p50:.2f} | {p90:.2f} | "
            + " | ".join(f"{value:.1f}" for value in remote)
            + " |"
        )


if __name__ == "__main__":
    main()
