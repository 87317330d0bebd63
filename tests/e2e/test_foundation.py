"""The system answers through the gateway: health, request ids, envelope, docs, admin."""

import uuid

import pytest

from harness import wait_for
from stack import SERVICES


def test_gateway_health_lists_every_upstream_ok(system):
    # /health answers from checks made every 2 s in the background, each given 1 s: an
    # upstream that an earlier test kept busy (hashing passwords, say) may have missed
    # one. Every upstream is up, so within a few checks every one is "ok".
    def health():
        response = system.http.get(f"{system.gateway}/health", timeout=5)
        return response if response.status_code == 200 else None

    response = wait_for(health, timeout=15, interval=0.5)

    body = response.json()
    assert body["status"] == "ok"
    assert {name: s["status"] for name, s in body["services"].items()} == dict.fromkeys(
        ("users", "products", "orders", "cart", "payments", "shipping"), "ok"
    )


def test_request_id_reaches_the_upstream_log_and_comes_back(system):
    request_id = f"e2e-{uuid.uuid4().hex}"

    response = system.http.get(
        f"{system.gateway}/api/products/no-such-thing/",
        headers={"X-Request-ID": request_id},
        timeout=5,
    )

    assert response.headers["X-Request-ID"] == request_id
    assert response.json()["error"]["request_id"] == request_id
    wait_for(lambda: f"request_id={request_id}" in system.log("products"))
    wait_for(lambda: f"request_id={request_id}" in system.log("gateway"))


def test_a_404_through_the_gateway_is_the_envelope(system):
    response = system.http.get(f"{system.gateway}/api/products/does/not/exist", timeout=5)

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert set(error) == {"code", "message", "details", "request_id"}


@pytest.mark.parametrize("path", ["/internal/reservations/", "/api/../internal/users/1/"])
def test_internal_paths_are_not_routed(system, path):
    response = system.http.get(f"{system.gateway}{path}", timeout=5)

    assert response.status_code == 404


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_serves_admin_schema_and_docs(system, service):
    # The gateway's admin is on its admin listener; its public one has the merged schema.
    admin = system.url("gateway-admin" if service == "gateway" else service)
    base = system.url(service)

    for url in (admin + "/admin/login/", base + "/api/schema/", base + "/api/docs/"):
        response = system.http.get(url, timeout=10)
        assert response.status_code == 200, url


def test_the_gateways_admin_is_not_on_its_public_listener(system):
    response = system.http.get(f"{system.gateway}/admin/login/", timeout=10)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
