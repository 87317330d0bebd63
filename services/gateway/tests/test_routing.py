"""The four public prefixes reach their upstream; nothing else does."""

import pytest

from tests.conftest import closed_port_url


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/api/auth/token/", "users"),
        ("/api/users/me/", "users"),
        ("/api/products/?search=tea&page=2", "products"),
        ("/api/orders/42/", "orders"),
    ],
)
def test_each_prefix_reaches_its_upstream(client, upstreams, path, upstream):
    response = client.get(path)

    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert f'"upstream": "{upstream}"'.encode() in body
    assert upstreams[upstream].received[-1]["path"] == path


def test_body_and_method_are_forwarded(client, upstreams):
    client.post("/api/orders/", {"items": [{"product_id": 1}]}, content_type="application/json")

    received = upstreams["orders"].received[-1]
    assert received["method"] == "POST"
    assert received["body"] == '{"items": [{"product_id": 1}]}'


def test_request_id_is_forwarded_and_echoed(client, upstreams):
    response = client.get("/api/products/", HTTP_X_REQUEST_ID="trace-gw-1")

    assert response["X-Request-ID"] == "trace-gw-1"
    assert upstreams["products"].received[-1]["request_ids"] == ["trace-gw-1"]


def test_forwarded_for_comes_from_the_connection_not_the_client(client, upstreams):
    client.get("/api/products/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="10.1.2.3")

    assert upstreams["products"].received[-1]["headers"]["X-Forwarded-For"] == "10.1.2.3"


@pytest.mark.parametrize("path", ["/internal/reservations/", "/admin/", "/api/unknown/"])
def test_unrouted_paths_never_reach_an_upstream(client, upstreams, path):
    response = client.get(path)

    assert response.status_code in (404, 302)
    assert all(not server.received for server in upstreams.values())


def test_refused_upstream_is_a_502_envelope(client, upstreams, settings):
    settings.GATEWAY_UPSTREAMS = {**settings.GATEWAY_UPSTREAMS, "orders": closed_port_url()}

    response = client.get("/api/orders/")

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"
