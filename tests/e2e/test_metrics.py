"""/metrics on every service's own port (the gateway's on its admin listener): Prometheus
text that parses, counters that move with traffic, the database's numbers, and nothing of
it reachable through the gateway."""

from __future__ import annotations

import json
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from stack import PROJECTS, REPO

LIVE = "/health/live"
# What only each service's database knows, read at each scrape.
OWN_METRICS = {
    "orders": ["souk_orders", "souk_outbox_waiting_events", "souk_dead_letters"],
    "products": ["souk_stock_reservations", "souk_stock_held_units"],
    "payments": ["souk_outbox_oldest_age_seconds", "souk_consumer_handled_events"],
    "notifications": ["souk_consumer_failed_attempts", "souk_dead_letters"],
}


def scrape(system, process: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = system.http.get(f"{system.url(process)}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def live_requests(samples) -> float:
    labels = (("method", "GET"), ("route", LIVE), ("status", "200"))
    return samples.get(("souk_http_requests_total", labels), 0.0)


@pytest.mark.parametrize("project", [p for p in PROJECTS if p != "gateway"])
def test_each_services_metrics_parse_and_count_its_requests(system, project):
    before = live_requests(scrape(system, project))

    for _ in range(3):
        assert system.http.get(f"{system.url(project)}{LIVE}", timeout=10).status_code == 200

    samples = scrape(system, project)
    assert live_requests(samples) >= before + 3
    names = {name for name, _ in samples}
    assert set(OWN_METRICS.get(project, [])) <= names


def test_the_gateways_metrics_are_on_its_admin_listener_and_count_its_routes(system):
    def products_answered(samples) -> float:
        labels = (("method", "GET"), ("route", "/api/products/"), ("status", "200"))
        return samples.get(("souk_gateway_requests_total", labels), 0.0)

    before = scrape(system, "gateway-admin")
    for _ in range(4):
        assert system.http.get(f"{system.gateway}/api/products/", timeout=10).status_code == 200

    samples = scrape(system, "gateway-admin")
    assert products_answered(samples) >= products_answered(before) + 4
    assert ("souk_gateway_breaker_open", (("upstream", "products"),)) in samples
    assert ("souk_gateway_bulkhead_in_use", (("upstream", "products"),)) in samples


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "/api/../metrics", "/%6detrics"])
def test_no_metrics_are_reachable_through_the_gateway(system, path):
    response = system.http.get(f"{system.gateway}{path}", timeout=10)

    assert response.status_code == 404
    assert "souk_" not in response.text


def test_the_dashboard_asks_only_for_metrics_the_code_defines():
    """A series the dashboard asks for exists once what it counts has happened (a metric
    with labels has no sample before): its name must be one a service defines."""
    dashboard = json.loads((REPO / "deploy" / "grafana" / "souk-dashboard.json").read_text())
    asked = {
        re.sub(r"_(total|bucket|count|sum)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bsouk_[a-z_]+", target["expr"])
    }
    sources = [*(REPO / "libs").rglob("*.py"), *(REPO / "services").rglob("*.py")]
    defined = {
        re.sub(r"_total$", "", name)
        for source in sources
        if "tests" not in source.parts
        for name in re.findall(r'"(souk_[a-z_]+)",', source.read_text())
    }

    assert asked
    assert asked <= defined, f"the dashboard asks for what no code defines: {asked - defined}"
