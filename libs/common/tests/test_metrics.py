"""/metrics: requests counted by route and status, calls to other services by outcome,
several processes adding up, and what only the database knows read at each scrape."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from souk_common import metrics
from souk_common.clients import ServiceClient
from souk_common.events.publish import event_publish

LIB = Path(__file__).resolve().parent.parent
# /metrics reads the outbox and the inbox (souk_common.events is installed here).
pytestmark = pytest.mark.django_db


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample ``/metrics`` shows, by name and labels (it must parse, too)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def requests_of(samples, route: str, status: str) -> float:
    key = ("souk_http_requests_total", (("method", "GET"), ("route", route), ("status", status)))
    return samples.get(key, 0.0)


def test_requests_are_counted_by_route_and_status_never_by_path(client):
    before = scrape(client)

    client.get("/raise/permission-denied/")
    client.get("/raise/conflict/")
    client.get("/no/such/path/42/")

    after = scrape(client)
    assert (
        requests_of(after, "/raise/<str:kind>/", "403")
        == requests_of(before, "/raise/<str:kind>/", "403") + 1
    )
    assert (
        requests_of(after, "/raise/<str:kind>/", "409")
        == requests_of(before, "/raise/<str:kind>/", "409") + 1
    )
    assert requests_of(after, "<unmatched>", "404") == requests_of(before, "<unmatched>", "404") + 1
    assert not any("/no/such/path" in str(labels) for _, labels in after)
    latency = (
        "souk_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/raise/<str:kind>/")),
    )
    assert after[latency] >= 2


def test_calls_to_other_services_are_counted_by_outcome(client, fake_service):
    products = fake_service()
    products.add("GET", "/api/products/", json={})
    products.add("GET", "/gone/", status=404, json={})
    calling = ServiceClient("metrics-products", products.url, retries=0)
    before = scrape(client)

    calling.get("/api/products/")
    calling.get("/gone/")

    after = scrape(client)

    def calls(outcome: str) -> float:
        labels = (("method", "GET"), ("outcome", outcome), ("upstream", "metrics-products"))
        return after.get(("souk_client_calls_total", labels), 0.0) - before.get(
            ("souk_client_calls_total", labels), 0.0
        )

    assert (calls("200"), calls("404")) == (1, 1)


def test_the_outbox_backlog_and_dead_letters_are_read_at_each_scrape(
    client, django_capture_on_commit_callbacks
):
    waiting = ("souk_outbox_waiting_events", ())
    before = scrape(client)[waiting]

    event_publish(type="shelf.stocked", data={"shelf": 1})

    samples = scrape(client)
    assert samples[waiting] == before + 1
    assert samples[("souk_outbox_oldest_age_seconds", ())] >= 0
    assert ("souk_dead_letters", ()) in samples


COUNT_IN_A_PROCESS = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
import django
django.setup()
from django.test import Client
for _ in range(int(sys.argv[1])):
    Client().get("/health/live")
"""
SCRAPE_IN_A_PROCESS = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
import django
django.setup()
from django.test import Client
print(Client().get("/metrics").content.decode())
"""


def test_worker_processes_add_up_in_one_scrape(tmp_path):
    """Two processes (two workers of one service) count into one folder; a third, the
    one Prometheus asks, shows their sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "SOUK_ENV": "development"}

    for count in ("3", "4"):
        subprocess.run(
            [sys.executable, "-c", COUNT_IN_A_PROCESS, count], cwd=LIB, env=env, check=True
        )
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE_IN_A_PROCESS],
        cwd=LIB, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped.stdout)
        for sample in family.samples
    }
    assert requests_of(samples, "/health/live", "200") == 7


def test_a_made_up_method_is_counted_as_other(client):
    before = scrape(client)

    client.generic("BREW", "/health/live")

    after = scrape(client)
    key = (
        "souk_http_requests_total",
        (("method", "other"), ("route", "/health/live"), ("status", "405")),
    )
    assert after[key] == before.get(key, 0) + 1
    assert not any(("method", "BREW") in labels for _, labels in after)


HOLD_A_GAUGE = """
from prometheus_client import Gauge
Gauge("souk_test_in_flight", "calls in flight", multiprocess_mode="livesum").set(3)
"""


def test_the_gauges_of_processes_that_died_are_forgotten(tmp_path, monkeypatch):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", HOLD_A_GAUGE], env=env, check=True)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    left = [name for name in os.listdir(tmp_path) if name.startswith("gauge_livesum_")]

    metrics.forget_dead_processes()

    assert left  # the dead process left its gauge
    assert not [name for name in os.listdir(tmp_path) if name.startswith("gauge_livesum_")]
    assert b"souk_test_in_flight" not in generate_latest(metrics.registry())
