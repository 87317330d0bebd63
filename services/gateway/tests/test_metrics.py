"""The gateway's metrics: what its public listener's workers count, served by the admin
listener's /metrics (both read one folder), never on the public port."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import free_port


def scrape(client, folder, monkeypatch) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The admin listener's /metrics (this process runs its Django app) over ``folder``."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


@pytest.mark.django_db
def test_the_admin_listener_serves_what_the_public_workers_counted(
    start_gateway, products, http, client, tmp_path, monkeypatch
):
    gateway = start_gateway(workers=2, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))

    statuses = [
        http.get(f"{gateway.url}/api/products/", headers={"Connection": "close"}, timeout=10)
        for _ in range(6)
    ]
    unrouted = http.get(f"{gateway.url}/nothing/here/42", timeout=10)
    public_metrics = http.get(f"{gateway.url}/metrics", timeout=10)

    samples = scrape(client, tmp_path, monkeypatch)
    assert {response.status_code for response in statuses} == {200}
    route = (("method", "GET"), ("route", "/api/products/"), ("status", "200"))
    assert samples[("souk_gateway_requests_total", route)] == 6
    assert (
        samples[("souk_gateway_upstream_duration_seconds_count", (("upstream", "products"),))] == 6
    )
    assert samples[("souk_gateway_bulkhead_in_use", (("upstream", "products"),))] == 0
    assert samples[("souk_gateway_breaker_open", (("upstream", "products"),))] == 0
    unmatched = (("method", "GET"), ("route", "<unmatched>"), ("status", "404"))
    assert samples[("souk_gateway_requests_total", unmatched)] == 2  # /nothing/..., /metrics
    assert not any("/nothing/here" in str(labels) for _, labels in samples)
    assert (unrouted.status_code, public_metrics.status_code) == (404, 404)


@pytest.mark.django_db
def test_an_upstream_failing_shows_in_its_errors_and_its_open_breaker(
    start_gateway, http, client, tmp_path, monkeypatch
):
    gateway = start_gateway(
        workers=1,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
        PRODUCTS_URL=f"http://127.0.0.1:{free_port()}",
        GATEWAY_BREAKER_FAILURES="3",
        GATEWAY_BREAKER_RESET_SECONDS="60",
    )

    statuses = [http.get(f"{gateway.url}/api/products/", timeout=10).status_code for _ in range(5)]

    samples = scrape(client, tmp_path, monkeypatch)
    assert statuses == [502, 502, 502, 503, 503]
    errors = "souk_gateway_upstream_errors_total"
    assert samples[(errors, (("kind", "failed"), ("upstream", "products")))] == 3
    assert samples[(errors, (("kind", "breaker_open"), ("upstream", "products")))] == 2
    assert samples[("souk_gateway_breaker_open", (("upstream", "products"),))] == 1
