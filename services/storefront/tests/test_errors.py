"""The API down, busy or failing: a page for people, never a traceback."""

import socket

import pytest

from storefront.clients import gateway
from tests.answers import error


@pytest.fixture
def gateway_down(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.STOREFRONT = {
        **settings.STOREFRONT,
        "GATEWAY_URL": f"http://127.0.0.1:{closed}",
        "RETRIES": 0,
    }
    gateway.reset()
    yield
    gateway.reset()


def test_a_gateway_that_is_down_gives_a_friendly_page(client, gateway_down):
    response = client.get("/")

    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "The shop is unavailable for a moment" in body
    assert "Traceback" not in body
    assert "BadGateway" not in body


@pytest.mark.parametrize(
    ("status", "code", "shown", "retry"),
    [
        (429, "rate_limited", "Too many requests just now. Please try again in 7 seconds.", "7"),
        # A 5xx reaches the storefront as souk_common's BadGateway, its Retry-After unread.
        (503, "upstream_unavailable", "please try again in 5 seconds", "5"),
        (504, "upstream_timeout", "please try again in 5 seconds", "5"),
    ],
)
def test_a_busy_api_says_try_again(client, api, status, code, shown, retry):
    headers = {"Retry-After": "7"}
    api.add(
        "GET",
        "/api/products/categories/",
        status=status,
        body=error(code, "Busy."),
        headers=headers,
    )
    api.add("GET", "/api/products/", status=status, body=error(code, "Busy."), headers=headers)

    response = client.get("/")

    assert response.status_code == (429 if status == 429 else 503)
    assert response["Retry-After"] == retry
    assert shown in response.content.decode()


def test_an_unknown_page_is_a_404_page(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "We cannot find that page" in response.content.decode()


def test_health_answers_without_the_gateway(client, gateway_down):
    assert client.get("/health/live").json() == {"status": "ok"}
    assert client.get("/health/ready").status_code == 200


def test_with_the_frontend_secret_each_call_names_the_browser(client, api, settings):
    settings.STOREFRONT = {**settings.STOREFRONT, "FRONTEND_SECRET": "front-end-secret"}
    gateway.reset()
    api.add(
        "GET", "/api/products/", json={"count": 0, "next": None, "previous": None, "results": []}
    )
    api.add(
        "GET",
        "/api/products/categories/",
        json={"count": 0, "next": None, "previous": None, "results": []},
    )

    client.get("/", REMOTE_ADDR="203.0.113.9")

    assert api.calls
    for call in api.calls:
        assert call.headers["X-Forwarded-For"] == "203.0.113.9"
        assert call.headers["X-Souk-Frontend-Secret"] == "front-end-secret"


def test_without_it_no_call_claims_to_speak_for_anyone(client, api):
    api.add(
        "GET", "/api/products/", json={"count": 0, "next": None, "previous": None, "results": []}
    )
    api.add(
        "GET",
        "/api/products/categories/",
        json={"count": 0, "next": None, "previous": None, "results": []},
    )

    client.get("/", REMOTE_ADDR="203.0.113.9")

    assert api.calls
    assert all("X-Souk-Frontend-Secret" not in call.headers for call in api.calls)
    assert all("X-Forwarded-For" not in call.headers for call in api.calls)


def test_with_htmx_a_gateway_that_is_down_reloads_the_page_saying_so(client, gateway_down):
    response = client.get("/?q=tea", headers={"HX-Request": "true", "HX-Target": "results"})

    assert response["HX-Refresh"] == "true"
    assert "The shop could not answer just now" in client.get("/signin/").content.decode()


def test_a_reloaded_page_that_meets_the_gateway_still_down_says_so_once(client, gateway_down):
    client.get("/?q=tea", headers={"HX-Request": "true", "HX-Target": "results"})

    reloaded = client.get("/?q=tea").content.decode()

    assert "The shop is unavailable for a moment" in reloaded
    assert "The shop could not answer just now" not in reloaded
    # Nor is the message left for a later page.
    assert "The shop could not answer just now" not in client.get("/signin/").content.decode()
