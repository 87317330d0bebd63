"""The route table changes without a restart; the API docs show every service."""

from __future__ import annotations

import sqlite3
import time

import pytest

from tests.processes import UPSTREAMS, Upstream


def override(gateway, **row):
    """Write a route override straight into the gateway's database (as the admin would)."""
    values = {
        "methods": "GET,HEAD,OPTIONS,POST",
        "auth_required": False,
        "timeout_seconds": 5.0,
        "max_body_bytes": 1024 * 1024,
        "rate_limit_class": "default",
        "enabled": True,
        **row,
    }
    with sqlite3.connect(gateway.workdir / "gateway.sqlite3") as db:
        db.execute(
            "INSERT INTO proxy_route (prefix, upstream, methods, auth_required, timeout_seconds,"
            " max_body_bytes, rate_limit_class, enabled, updated_at)"
            " VALUES (:prefix, :upstream, :methods, :auth_required, :timeout_seconds,"
            " :max_body_bytes, :rate_limit_class, :enabled, datetime('now'))",
            values,
        )


def eventually(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the change did not apply in time"
        time.sleep(0.2)


def test_an_admin_edit_applies_without_a_restart(start_gateway, http):
    gateway = start_gateway(workers=2)
    assert http.get(f"{gateway.url}/api/reports/", timeout=10).status_code == 404

    override(gateway, prefix="/api/reports/", upstream="products")
    override(gateway, prefix="/api/products/", upstream="products", enabled=False)

    eventually(lambda: http.get(f"{gateway.url}/api/reports/", timeout=10).status_code == 200)
    eventually(lambda: http.get(f"{gateway.url}/api/products/", timeout=10).status_code == 404)


def test_a_smaller_body_limit_for_one_route(start_gateway, http, products):
    gateway = start_gateway(workers=1)
    override(gateway, prefix="/api/products/", upstream="products", max_body_bytes=100)

    eventually(
        lambda: (
            http.post(f"{gateway.url}/api/products/", data=b"x" * 101, timeout=10).status_code
            == 413
        )
    )
    assert http.post(f"{gateway.url}/api/products/", data=b"x" * 100, timeout=10).status_code == 200


def test_the_docs_page_shows_every_services_schema_offline(gateway, http):
    page = http.get(f"{gateway.url}/api/docs/", timeout=10)
    schema = http.get(f"{gateway.url}/api/schema/", timeout=10).json()

    assert page.status_code == 200
    assert "cdn." not in page.text
    assert set(schema["paths"]) == {f"/api/{name}/things/" for name in UPSTREAMS}
    assert {tag["name"] for tag in schema["tags"]} == set(UPSTREAMS)
    ref = schema["paths"]["/api/products/things/"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    assert ref == "#/components/schemas/products.Thing"
    assert "products.Thing" in schema["components"]["schemas"]


def test_a_service_that_starts_after_the_gateway_is_in_the_docs_once_it_is_ready(
    start_gateway, http
):
    late = Upstream("shipping")  # a fake of its own, stopped: a service still starting
    late.stop()
    gateway = start_gateway(
        workers=1,
        SHIPPING_URL=late.url,
        GATEWAY_HEALTH_INTERVAL="0.5",
        GATEWAY_SCHEMA_REFRESH_SECONDS="0.5",
    )

    def schema():
        return http.get(f"{gateway.url}/api/schema/", timeout=10).json()

    try:
        before = schema()
        time.sleep(1.5)  # refreshes of the others' schemas go by
        late.start()
        # The schemas are refreshed every minute; one missing is fetched once it is ready.
        eventually(lambda: "/api/shipping/things/" in schema()["paths"], timeout=10)
    finally:
        late.stop()

    assert "/api/shipping/things/" not in before["paths"]
    assert "Not shown (not fetched yet): shipping." in before["info"]["description"]
    assert "not fetched yet" not in schema()["info"]["description"]
    assert "schema could not be fetched" not in gateway.log()  # it was starting: no warning


def test_a_ready_service_whose_schema_fails_is_asked_again_at_the_refresh_not_each_check(
    start_gateway,
):
    failing = Upstream("shipping")
    failing.set_schema_status(500)
    try:
        start_gateway(workers=1, SHIPPING_URL=failing.url, GATEWAY_HEALTH_INTERVAL="0.2")
        time.sleep(2)  # ten health checks, each finding it ready
        asked = failing.schema_asked()
    finally:
        failing.stop()

    assert asked == 1  # as it was found ready; next at the minute's refresh


def test_internal_paths_are_not_in_the_public_docs(gateway, http):
    schema = http.get(f"{gateway.url}/api/schema/", timeout=10).json()

    assert not any(path.startswith("/internal/") for path in schema["paths"])


@pytest.mark.django_db
def test_route_overrides_are_validated():
    from django.core.exceptions import ValidationError

    from proxy.models import Route

    for bad in (
        {"prefix": "/internal/", "upstream": "users"},
        {"prefix": "/admin/", "upstream": "users"},
        {"prefix": "/api/x/", "upstream": "nowhere"},
        {"prefix": "/api/x/", "upstream": "users", "methods": "GET,TRACE"},
    ):
        with pytest.raises(ValidationError):
            Route(**bad).full_clean()
