"""Rate limits: per client address and per user, shared by every worker, not fooled by headers."""

from __future__ import annotations

import concurrent.futures

import pytest
import requests

from tests.processes import free_port


@pytest.fixture(scope="module")
def limited(start_gateway):
    return start_gateway(
        GATEWAY_RATE_PER_ADDRESS="10/min",
        GATEWAY_RATE_PER_USER="5/min",
        GATEWAY_SIGN_IN_RATE_PER_ADDRESS="3/min",
        workers=2,
    )


def fresh_connection_get(url: str, headers: dict[str, str] | None = None) -> requests.Response:
    # A new connection each time, so requests spread over both worker processes.
    return requests.get(url, headers={**(headers or {}), "Connection": "close"}, timeout=10)


def test_the_address_limit_is_shared_by_two_worker_processes(start_gateway):
    # Two gateway processes on one database: each request goes to the other one in turn,
    # so counts kept per process would let 20 through.
    first = start_gateway(GATEWAY_RATE_PER_ADDRESS="10/min", workers=1)
    second = start_gateway(GATEWAY_RATE_PER_ADDRESS="10/min", workers=1, share_with=first)

    statuses = [
        fresh_connection_get(f"{gateway.url}/api/products/").status_code
        for _ in range(15)
        for gateway in (first, second)
    ]

    assert statuses.count(200) == 10
    assert statuses.count(429) == 20


def test_concurrent_requests_are_counted_exactly(limited):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda _: fresh_connection_get(f"{limited.url}/api/products/").status_code,
                range(40),
            )
        )

    assert statuses.count(200) == 10
    assert statuses.count(429) == 30


def test_429_carries_retry_after_and_the_envelope(limited):
    for _ in range(12):
        response = fresh_connection_get(f"{limited.url}/api/users/")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_a_spoofed_forwarded_for_does_not_change_who_the_client_is(start_gateway):
    gateway = start_gateway(GATEWAY_RATE_PER_ADDRESS="3/min", workers=1)

    statuses = [
        fresh_connection_get(
            f"{gateway.url}/api/products/", {"X-Forwarded-For": f"198.51.100.{n}"}
        ).status_code
        for n in range(5)
    ]

    assert statuses == [200, 200, 200, 429, 429]


def test_behind_a_trusted_proxy_its_forwarded_address_is_the_client(start_gateway):
    gateway = start_gateway(
        GATEWAY_RATE_PER_ADDRESS="2/min", GATEWAY_TRUSTED_PROXY_COUNT="1", workers=1
    )

    first_client = [
        fresh_connection_get(f"{gateway.url}/api/products/", {"X-Forwarded-For": "203.0.113.1"})
        for _ in range(3)
    ]
    second_client = fresh_connection_get(
        f"{gateway.url}/api/products/", {"X-Forwarded-For": "203.0.113.2"}
    )

    assert [r.status_code for r in first_client] == [200, 200, 429]
    assert second_client.status_code == 200


def test_a_front_end_with_the_secret_names_each_browser(start_gateway):
    gateway = start_gateway(
        GATEWAY_RATE_PER_ADDRESS="2/min", GATEWAY_FRONTEND_SECRET="front-end-secret", workers=1
    )

    def from_front_end(browser: str, secret: str = "front-end-secret") -> int:
        headers = {"X-Forwarded-For": browser, "X-Souk-Frontend-Secret": secret}
        return fresh_connection_get(f"{gateway.url}/api/products/", headers).status_code

    first_browser = [from_front_end("203.0.113.1") for _ in range(3)]
    second_browser = from_front_end("203.0.113.2")
    # A wrong secret is no front end: the peer itself is the client, and has its own count.
    forged = [from_front_end(f"203.0.113.{n}", secret="guess") for n in range(10, 13)]

    assert first_browser == [200, 200, 429]
    assert second_browser == 200
    assert forged == [200, 200, 429]


def test_signing_in_has_a_stricter_limit(start_gateway):
    gateway = start_gateway(GATEWAY_SIGN_IN_RATE_PER_ADDRESS="3/min", workers=1)

    statuses = [
        requests.post(f"{gateway.url}/api/auth/token/", json={}, timeout=10).status_code
        for _ in range(5)
    ]
    other_route = requests.get(f"{gateway.url}/api/products/", timeout=10)

    assert statuses == [200, 200, 200, 429, 429]
    assert other_route.status_code == 200


def test_password_resets_and_e_mail_verification_have_a_limit_of_their_own(start_gateway):
    gateway = start_gateway(GATEWAY_ACCOUNT_LINKS_RATE_PER_ADDRESS="3/min", workers=1)

    statuses = [
        requests.post(f"{gateway.url}{path}", json={}, timeout=10).status_code
        for path in [
            "/api/auth/password-reset/",
            "/api/auth/password-reset/confirm/",
            "/api/auth/verify-email/",
            "/api/auth/password-reset/",
            "/api/auth/verify-email/",
        ]
    ]
    sign_in = requests.post(f"{gateway.url}/api/auth/token/", json={}, timeout=10)

    assert statuses == [200, 200, 200, 429, 429]
    assert sign_in.status_code == 200


def test_each_user_has_their_own_limit(start_gateway, tokens):
    gateway = start_gateway(GATEWAY_RATE_PER_USER="3/min", workers=1)
    alice = {"Authorization": f"Bearer {tokens.access(user_id=1)}"}
    bob = {"Authorization": f"Bearer {tokens.access(user_id=2)}"}

    alice_statuses = [
        requests.get(f"{gateway.url}/api/orders/", headers=alice, timeout=10).status_code
        for _ in range(4)
    ]
    bob_status = requests.get(f"{gateway.url}/api/orders/", headers=bob, timeout=10).status_code

    assert alice_statuses == [200, 200, 200, 429]
    assert bob_status == 200


def test_limits_can_be_turned_off_for_benchmarks(start_gateway):
    gateway = start_gateway(
        GATEWAY_RATE_PER_ADDRESS="1/min", GATEWAY_RATE_LIMIT_ENABLED="false", workers=1
    )

    statuses = {
        requests.get(f"{gateway.url}/api/products/", timeout=10).status_code for _ in range(5)
    }

    assert statuses == {200}


def test_when_the_shared_store_is_down_requests_still_go_through(start_gateway):
    gateway = start_gateway(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", GATEWAY_RATE_PER_ADDRESS="1/min", workers=1
    )

    statuses = {
        requests.get(f"{gateway.url}/api/products/", timeout=10).status_code for _ in range(3)
    }

    assert statuses == {200}
    assert "rate limits not counted" in gateway.log()


@pytest.mark.postgres
def test_pooled_database_connections_go_back_after_counting(start_gateway, postgres_database):
    # Far more requests than the pool has connections: each must give its connection back.
    gateway = start_gateway(
        GATEWAY_DATABASE_URL=postgres_database, DATABASE_POOL_SIZE="2", workers=1
    )

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda _: requests.get(f"{gateway.url}/api/products/", timeout=20).status_code,
                range(60),
            )
        )

    assert statuses == [200] * 60
    assert "rate limits not counted" not in gateway.log()  # every request was counted
