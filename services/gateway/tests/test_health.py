"""``GET /health`` reports every upstream's readiness."""

from tests.conftest import closed_port_url


def test_all_upstreams_ready(client, upstreams):
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["services"]) == {"users", "products", "orders"}
    assert all(s["status"] == "ok" and s["latency_ms"] >= 0 for s in body["services"].values())


def test_a_failing_upstream_makes_the_gateway_degraded(client, upstreams, settings):
    upstreams["products"].server.ready_status = 503
    settings.GATEWAY_UPSTREAMS = {**settings.GATEWAY_UPSTREAMS, "orders": closed_port_url()}

    response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["services"]["users"]["status"] == "ok"
    assert body["services"]["products"]["status"] == "unavailable"
    assert body["services"]["orders"]["status"] == "unavailable"
