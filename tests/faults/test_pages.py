"""The gateway's fan-out pages under a hung service: polling them slows no other route.

Once, with products hung, 70 clients polling /api/schema/ slowed /api/users/me/ from
0.02 s to timeouts, and polling /health slowed it 30-50 times: both pages called
every service on each request. Now they answer from background checks.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

import requests

from harness import RunningStack, bearer, register_and_sign_in

POLLERS = """
import sys, threading, time, requests
url, count, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
statuses, deadline = set(), time.monotonic() + seconds
def poll(page):
    session = requests.Session()
    while time.monotonic() < deadline:
        statuses.add(session.get(url + page, timeout=10).status_code)
threads = [threading.Thread(target=poll, args=(("/health", "/api/schema/")[n % 2],))
           for n in range(count)]
for thread in threads: thread.start()
for thread in threads: thread.join()
print(sorted(statuses))
"""


def test_polling_health_and_schema_with_products_hung_slows_no_other_route(
    system: RunningStack,
) -> None:
    tokens = register_and_sign_in(system, "poller-victim")
    session = requests.Session()
    url, headers = f"{system.gateway}/api/users/me/", bearer(tokens["access"])
    for _ in range(20):
        session.get(url, headers=headers, timeout=10)

    system.pause("products")
    try:
        pollers = subprocess.Popen(
            [sys.executable, "-c", POLLERS, system.gateway, "70", "6"], stdout=subprocess.PIPE
        )
        time.sleep(1)
        measured = []
        for _ in range(200):
            started = time.monotonic()
            assert session.get(url, headers=headers, timeout=10).status_code == 200
            measured.append(time.monotonic() - started)
        statuses, _ = pollers.communicate(timeout=60)
    finally:
        system.resume("products")

    assert statistics.median(measured) < 0.05
    assert statistics.quantiles(measured, n=100)[98] < 0.5
    assert json.loads(statuses) == [200, 503]  # the schema, and health degraded: no error
