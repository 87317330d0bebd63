"""The proxy, end to end: a real gateway process in front of real upstream processes."""

from __future__ import annotations

import http.client
import json
import re
import socket

import pytest

from souk_common.test_servers import OtlpReceiver
from souk_common.testing import FORGED_TOKEN_KINDS


def raw_request(
    port: int, request_line: str, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """Send a request exactly as written (no client-side normalisation of the path)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    method, target = request_line.split()[:2]
    connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, body


@pytest.mark.parametrize(
    "path",
    [
        "/api/products/../internal/reservations/",
        "/api/products/%2e%2e/internal/reservations/",
        "/api/products/%2E%2E/%2E%2E/admin/",
        "/api/products/..%2finternal/",
        "/api/products%2F..%2Finternal%2Fusers%2F1%2F",
        "/api%2Fproducts/",
        "/api/products/%252e%252e/internal/",
        "/api/products/..%5cinternal/",
        "/api/products//internal/",
        "/api/products/./",
        "/api/products/%00/",
        "/internal/reservations/",
        "/internal/users/1/",
        "/api/nowhere/",
    ],
)
def test_traversal_and_unrouted_paths_are_404_and_reach_no_upstream(gateway, upstreams, path):
    for upstream in upstreams.values():
        upstream.forget()

    status, body = raw_request(gateway.port, f"GET {path} HTTP/1.1", {"Host": "localhost"})

    assert status == 404
    assert json.loads(body)["error"]["code"] == "not_found"
    assert all(not upstream.received() for upstream in upstreams.values())


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/api/auth/token/", "users"),
        ("/api/users/me/", "users"),
        ("/api/products/?search=tea&page=2", "products"),
    ],
)
def test_each_prefix_reaches_its_upstream_with_path_and_query_intact(
    gateway, upstreams, http, path, upstream
):
    upstreams[upstream].forget()
    method = "post" if path.startswith("/api/auth/token/") else "get"

    response = getattr(http, method)(f"{gateway.url}{path}", timeout=10)

    assert response.status_code == 200
    assert response.json()["upstream"] == upstream
    assert upstreams[upstream].received()[-1]["path"] == path


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/api/../admin/login/"])
def test_the_admin_is_not_on_the_public_listener_nor_routed(gateway, upstreams, http, path):
    for upstream in upstreams.values():
        upstream.forget()

    status, body = raw_request(gateway.port, f"GET {path} HTTP/1.1", {"Host": "localhost"})

    assert status == 404
    assert json.loads(body)["error"]["code"] == "not_found"
    assert all(not upstream.received() for upstream in upstreams.values())


def test_a_method_a_route_does_not_allow_is_405(gateway, http, products):
    response = http.delete(f"{gateway.url}/api/auth/token/", timeout=10)

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "OPTIONS, POST"


def received_headers(upstream) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in upstream.received()[-1]["headers"]:
        headers.setdefault(name, []).append(value)
    return headers


def test_hop_by_hop_request_headers_are_dropped(gateway, products):
    status, _ = raw_request(
        gateway.port,
        "GET /api/products/ HTTP/1.1",
        {
            "Host": "localhost",
            "Connection": "keep-alive, X-Client-Private",
            "X-Client-Private": "secret",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Proxy-Authorization": "Basic c2VjcmV0",
            "Upgrade": "websocket",
            "X-Kept": "yes",
        },
    )

    assert status == 200
    seen = received_headers(products)
    for name in ("x-client-private", "keep-alive", "te", "proxy-authorization", "upgrade"):
        assert name not in seen, name
    assert "keep-alive" not in seen.get("connection", [""])[0]
    assert seen["x-kept"] == ["yes"]


def test_hop_by_hop_response_headers_are_dropped(gateway, http, products):
    response = http.get(f"{gateway.url}/api/products/hop", timeout=10)

    assert response.status_code == 200
    for name in ("X-Upstream-Private", "Keep-Alive", "Proxy-Authenticate", "Trailer", "Upgrade"):
        assert name not in response.headers, name
    assert response.headers["X-Kept"] == "yes"


def test_forwarded_headers_come_from_the_connection_and_client_identity_headers_are_dropped(
    gateway, http, products
):
    http.get(
        f"{gateway.url}/api/products/",
        headers={
            "X-Forwarded-For": "6.6.6.6",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "https",
            "Forwarded": "for=6.6.6.6",
            "X-Real-IP": "6.6.6.6",
            "X-User-Id": "1",
            "X-Internal-Token": "let-me-in",
        },
        timeout=10,
    )

    seen = received_headers(products)
    assert seen["x-forwarded-for"] == ["127.0.0.1"]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == [f"127.0.0.1:{gateway.port}"]
    for name in ("forwarded", "x-real-ip", "x-user-id", "x-internal-token"):
        assert name not in seen, name


def test_header_values_with_cr_or_lf_never_reach_an_upstream(gateway, products):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as connection:
        connection.sendall(
            b"GET /api/products/ HTTP/1.1\r\nHost: localhost\r\n"
            b"X-Evil: a\rInjected: yes\r\nConnection: close\r\n\r\n"
        )
        answer = connection.recv(4096)

    assert answer.split(b" ")[1] in (b"400",)
    assert not products.received()


def test_request_id_is_forwarded_and_echoed(gateway, http, products):
    response = http.get(
        f"{gateway.url}/api/products/", headers={"X-Request-ID": "trace-gw-42"}, timeout=10
    )

    assert response.headers["X-Request-ID"] == "trace-gw-42"
    assert received_headers(products)["x-request-id"] == ["trace-gw-42"]


def test_a_request_id_is_generated_when_missing_or_unsafe(gateway, http, products):
    response = http.get(
        f"{gateway.url}/api/products/", headers={"X-Request-ID": "bad id\twith spaces"}, timeout=10
    )

    generated = response.headers["X-Request-ID"]
    assert len(generated) == 32
    assert received_headers(products)["x-request-id"] == [generated]


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_the_clients_trace_goes_upstream(gateway, http, products):
    http.get(f"{gateway.url}/api/products/", headers={"traceparent": TRACEPARENT}, timeout=10)

    assert received_headers(products)["traceparent"] == [TRACEPARENT]


def test_while_tracing_the_request_and_its_call_upstream_are_spans_of_the_clients_trace(
    start_gateway, http, products
):
    with OtlpReceiver() as receiver:
        gateway = start_gateway(
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="50"
        )
        response = http.get(
            f"{gateway.url}/api/products/?page=2", headers={"traceparent": TRACEPARENT}, timeout=10
        )
        trace_id = TRACEPARENT.split("-")[1]
        spans = receiver.wait_for(trace_id, 2)
        sent_upstream = received_headers(products)["traceparent"]
        (server,) = [span for span in spans if span.kind == "SPAN_KIND_SERVER"]
        (call,) = [
            span
            for span in spans
            if span.kind == "SPAN_KIND_CLIENT" and span.name == "GET products"
        ]
        # The gateway's own pages (its probes) are no span: once a request made after
        # them has its spans in, the first trace still has its two.
        for page in ("/health", "/health/ready", "/health/live", "/"):
            http.get(
                f"{gateway.url}{page}",
                headers={"traceparent": TRACEPARENT},
                timeout=10,
                allow_redirects=False,
            )
        later = "0af7651916cd43dd8448eb211c80319c"
        http.get(
            f"{gateway.url}/api/products/",
            headers={"traceparent": f"00-{later}-b7ad6b7169203331-01"},
            timeout=10,
        )
        receiver.wait_for(later, 2)
        assert len(receiver.trace(trace_id)) == len(spans) == 2

    assert response.status_code == 200
    assert (server.service, server.kind, server.name) == (
        "gateway",
        "SPAN_KIND_SERVER",
        "GET /api/products/",
    )
    assert server.parent_id == TRACEPARENT.split("-")[2]
    assert server.attributes["http.response.status_code"] == 200
    assert (call.kind, call.name, call.parent_id) == (
        "SPAN_KIND_CLIENT",
        "GET products",
        server.span_id,
    )
    # The upstream's parent is the gateway's call, in the client's trace.
    assert sent_upstream == [f"00-{trace_id}-{call.span_id}-01"]


@pytest.mark.parametrize(
    "sent", [None, "00-not-a-trace-01", "00-" + "0" * 32 + "-" + "1" * 16 + "-01"]
)
def test_a_trace_is_started_when_the_client_sent_none_or_a_broken_one(
    gateway, http, products, sent
):
    headers = {"traceparent": sent} if sent else {}
    http.get(f"{gateway.url}/api/products/", headers=headers, timeout=10)

    (started,) = received_headers(products)["traceparent"]
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", started)
    assert started != sent


def test_a_body_over_the_limit_is_413_before_any_upstream(gateway, http, products):
    response = http.post(f"{gateway.url}/api/products/", data=b"x" * (1024 * 1024 + 1), timeout=10)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not products.received()


def test_a_chunked_body_over_the_limit_is_413_too(gateway, http, products):
    def chunks():
        for _ in range(20):
            yield b"x" * 65536

    response = http.post(f"{gateway.url}/api/products/", data=chunks(), timeout=10)

    assert response.status_code == 413
    assert not products.received()


def test_a_body_within_the_limit_is_forwarded_whole(gateway, http, products):
    body = json.dumps({"name": "x" * 1000})

    response = http.post(
        f"{gateway.url}/api/products/",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 200
    assert products.received()[-1]["body"] == body


def test_large_responses_are_streamed_through(gateway, http, products):
    response = http.get(f"{gateway.url}/api/products/big/5000000", stream=True, timeout=30)

    received = sum(len(chunk) for chunk in response.iter_content(65536))

    assert response.status_code == 200
    assert received == 5_000_000


def test_upstream_error_statuses_are_passed_through(gateway, http, products):
    response = http.get(f"{gateway.url}/api/products/status/409", timeout=10)

    assert response.status_code == 409
    assert response.json()["upstream"] == "products"


def test_orders_need_a_valid_token_at_the_edge(gateway, http, upstreams, tokens):
    upstreams["orders"].forget()

    missing = http.get(f"{gateway.url}/api/orders/", timeout=10)
    token = tokens.access(user_id=3)
    valid = http.get(
        f"{gateway.url}/api/orders/", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )

    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="souk"'
    assert valid.status_code == 200
    # Forwarded unchanged, so orders checks it again.
    assert dict(upstreams["orders"].received()[-1]["headers"])["authorization"] == f"Bearer {token}"
    assert len(upstreams["orders"].received()) == 1


@pytest.mark.parametrize("kind", FORGED_TOKEN_KINDS)
def test_forged_tokens_are_refused_at_the_edge(gateway, http, upstreams, tokens, kind):
    upstreams["orders"].forget()

    response = http.get(
        f"{gateway.url}/api/orders/",
        headers={"Authorization": f"Bearer {tokens.forged(kind)}"},
        timeout=10,
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not upstreams["orders"].received()


def test_a_stale_token_on_a_public_route_is_left_to_the_service(gateway, http, upstreams, tokens):
    upstreams["users"].forget()

    response = http.post(
        f"{gateway.url}/api/auth/token/refresh/",
        headers={"Authorization": f"Bearer {tokens.forged('expired')}"},
        timeout=10,
    )

    assert response.status_code == 200
    assert upstreams["users"].received()


def test_the_proxy_secret_goes_upstream_and_a_client_cannot_send_its_own(start_gateway, products):
    gateway = start_gateway(workers=1, GATEWAY_PROXY_SECRET="the-gateways-own-secret")

    status, _ = raw_request(
        gateway.port,
        "GET /api/products/ HTTP/1.1",
        {"Host": "localhost", "X-Souk-Proxy-Secret": "a-guess", "X-Forwarded-For": "6.6.6.6"},
    )

    assert status == 200
    received = received_headers(products)
    assert received["x-souk-proxy-secret"] == ["the-gateways-own-secret"]
    assert received["x-forwarded-for"] == ["127.0.0.1"]
