"""Every error leaves in the one envelope, with no traceback."""

import pytest
from django.test import Client


def envelope(response):
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return body["error"]


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_validation_error_names_each_field(client):
    response = client.post(
        "/validate/", {"name": "far too long", "quantity": 0}, content_type="application/json"
    )

    assert response.status_code == 400
    error = envelope(response)
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"name", "quantity"}


def test_malformed_json_is_a_validation_error(client):
    response = client.post("/validate/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert envelope(response)["code"] == "validation_error"


def test_unsupported_media_type(client):
    response = client.post("/validate/", "name=a", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert envelope(response)["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("not-authenticated", 401, "not_authenticated"),
        ("authentication-failed", 401, "not_authenticated"),
        ("permission-denied", 403, "permission_denied"),
        ("conflict", 409, "conflict"),
        ("unavailable", 503, "upstream_unavailable"),
        ("timeout", 504, "upstream_timeout"),
        ("throttled", 429, "rate_limited"),
        ("out-of-stock", 409, "out_of_stock"),
        ("credentials-refused", 401, "not_authenticated"),
    ],
)
def test_api_errors_have_their_contract_code(client, kind, status, code):
    response = client.get(f"/raise/{kind}/")

    assert response.status_code == status
    assert envelope(response)["code"] == code


def test_401_says_how_to_authenticate(client):
    response = client.get("/raise/not-authenticated/")

    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_domain_error_refusing_credentials_says_how_to_authenticate(client):
    response = client.get("/raise/credentials-refused/")

    assert response["WWW-Authenticate"] == 'Bearer realm="souk"'


def test_a_domain_error_carries_its_message_and_details(client):
    error = envelope(client.get("/raise/out-of-stock/"))

    assert error["message"] == "The shelf is empty."
    assert error["details"] == {"lines": [{"product_id": 3}]}


def test_service_error_carries_details(client):
    error = envelope(client.get("/raise/conflict/"))

    assert error["message"] == "Already there."
    assert error["details"] == {"id": 1}


@pytest.mark.parametrize(("kind", "retry_after"), [("unavailable", "3"), ("throttled", "4")])
def test_retry_after_is_whole_seconds_rounded_up(client, kind, retry_after):
    assert client.get(f"/raise/{kind}/")["Retry-After"] == retry_after


def test_method_not_allowed(client):
    response = client.delete("/validate/")

    assert response.status_code == 405
    assert envelope(response)["code"] == "method_not_allowed"


def test_unknown_url_is_a_404_envelope(client):
    response = client.get("/no/such/page")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert envelope(response)["code"] == "not_found"


@pytest.mark.parametrize("url", ["/raise/crash/", "/crash/"])
def test_unexpected_exception_is_500_without_traceback(client, url):
    response = client.get(url)

    assert response.status_code == 500
    error = envelope(response)
    assert error["code"] == "internal_error"
    assert b"secret internals" not in response.content
    assert b"Traceback" not in response.content


def test_disallowed_host_is_a_400_envelope(client):
    response = client.get("/health/live", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert envelope(response)["code"] == "validation_error"
