"""Every error code of the contract, produced for real and answered in the envelope."""

from __future__ import annotations

import signal
import time
import uuid

import pytest

from harness import admin_headers, bearer, create_accounts, new_product, place_order

ENVELOPE_KEYS = {"code", "message", "details", "request_id"}


def assert_envelope(response, status, code):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == ENVELOPE_KEYS
    assert error["code"] == code
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.text
    return error


@pytest.fixture
def shopper(system):
    ((_user_id, token),) = create_accounts(system, 1, f"codes{uuid.uuid4().hex[:6]}-")
    return token


def test_400_validation_error_with_field_details(system):
    response = system.http.post(
        f"{system.gateway}/api/users/",
        json={"username": "x", "email": "not-an-email", "password": "x"},
        timeout=10,
    )

    error = assert_envelope(response, 400, "validation_error")
    assert "email" in error["details"]


def test_401_not_authenticated(system):
    response = system.http.get(f"{system.gateway}/api/users/me/", timeout=10)

    assert_envelope(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_403_permission_denied(system, shopper):
    response = system.http.post(
        f"{system.gateway}/api/products/", json={}, headers=bearer(shopper), timeout=10
    )

    assert_envelope(response, 403, "permission_denied")


def test_404_not_found(system):
    assert_envelope(
        system.http.get(f"{system.gateway}/api/products/987654321/", timeout=10), 404, "not_found"
    )


def test_409_out_of_stock_and_409_conflict(system, shopper):
    product = new_product(system, stock=1)
    short = place_order(system, shopper, [(product, 2)])
    error = assert_envelope(short, 409, "out_of_stock")
    rejected_id = error["details"]["order_id"]

    cancel = system.http.post(
        f"{system.gateway}/api/orders/{rejected_id}/cancel/", headers=bearer(shopper), timeout=10
    )

    assert_envelope(cancel, 409, "conflict")


def test_422_idempotency_key_reused(system, shopper):
    product = new_product(system, stock=5)
    place_order(system, shopper, [(product, 1)], key="codes-422")

    response = place_order(system, shopper, [(product, 2)], key="codes-422")

    assert_envelope(response, 422, "idempotency_key_reused")


def test_413_payload_too_large(system, shopper):
    response = system.http.post(
        f"{system.gateway}/api/orders/",
        data=b"{" + b" " * (1024 * 1024) + b"}",
        headers={**bearer(shopper), "Content-Type": "application/json"},
        timeout=10,
    )

    assert_envelope(response, 413, "payload_too_large")


def test_429_rate_limited_with_retry_after(system, shopper):
    # The system tests allow 300 requests a minute per user (tests/conftest.py), in
    # windows of the clock's minutes: if one ends mid-loop, the count starts again,
    # and 601 requests still go over in one of the two windows.
    url = f"{system.gateway}/api/products/categories/"
    for _ in range(601):
        response = system.http.get(url, headers=bearer(shopper), timeout=10)
        if response.status_code == 429:
            break

    assert_envelope(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1


def test_500_internal_error_without_a_traceback(system):
    # Break the users database under the service: an error nobody planned for.
    rename = (
        "from django.db import connection; "
        "connection.cursor().execute('ALTER TABLE accounts_user RENAME TO accounts_user_away')"
    )
    restore = (
        "from django.db import connection; "
        "connection.cursor().execute('ALTER TABLE accounts_user_away RENAME TO accounts_user')"
    )
    headers = admin_headers(system)
    system.stack.manage("users", "shell", "--no-imports", "-c", rename, capture=True)
    try:
        response = system.http.get(f"{system.gateway}/api/users/", headers=headers, timeout=10)
    finally:
        system.stack.manage("users", "shell", "--no-imports", "-c", restore, capture=True)

    error = assert_envelope(response, 500, "internal_error")
    assert "accounts_user" not in response.text
    assert error["message"] == "Internal server error."


def test_502_503_a_dead_upstream_then_its_open_circuit(system, shopper):
    system.stop("users", signal.SIGKILL)
    try:
        first = system.http.get(
            f"{system.gateway}/api/users/me/", headers=bearer(shopper), timeout=10
        )
        later = [
            system.http.get(f"{system.gateway}/api/users/me/", headers=bearer(shopper), timeout=10)
            for _ in range(10)
        ]
    finally:
        system.start("users")

    assert_envelope(first, 502, "bad_gateway")
    opened = [r for r in later if r.status_code == 503]
    assert opened, [r.status_code for r in later]
    assert_envelope(opened[0], 503, "upstream_unavailable")
    assert int(opened[0].headers["Retry-After"]) >= 1
    time.sleep(6)  # the breaker lets a probe through, users is back, and it closes


def test_504_upstream_timeout(system):
    system.pause("products")
    try:
        started = time.monotonic()
        response = system.http.get(f"{system.gateway}/api/products/", timeout=30)
        elapsed = time.monotonic() - started
    finally:
        system.resume("products")

    assert_envelope(response, 504, "upstream_timeout")
    assert elapsed < 5 + 1
