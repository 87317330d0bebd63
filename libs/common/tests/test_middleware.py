"""The request id: accepted when safe, replaced otherwise, echoed, and in every log line."""

import json
import logging

import pytest
from django.test import Client

from souk_common.logging import JsonFormatter, RequestContextFilter
from souk_common.middleware import safe_request_id


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_a_safe_client_id_is_echoed(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="checkout-42.a:b")

    assert response["X-Request-ID"] == "checkout-42.a:b"


@pytest.mark.parametrize(
    "unsafe",
    ["", "has space", "new\nline", "x" * 129, "-leading-dash", 'quote"d', "é"],
)
def test_an_unsafe_client_id_is_replaced(unsafe):
    replaced = safe_request_id(unsafe)

    assert replaced != unsafe
    assert len(replaced) == 32
    assert safe_request_id(replaced) == replaced


def test_an_id_is_generated_when_none_is_sent(client):
    first = client.get("/health/live")["X-Request-ID"]
    second = client.get("/health/live")["X-Request-ID"]

    assert len(first) == 32
    assert first != second


def test_error_envelope_carries_the_same_id(client):
    response = client.get("/nowhere", HTTP_X_REQUEST_ID="trace-7")

    assert response.json()["error"]["request_id"] == "trace-7"


def test_every_log_line_of_a_request_has_its_id(client, caplog):
    caplog.handler.addFilter(RequestContextFilter("common-tests"))
    with caplog.at_level(logging.INFO):
        client.get("/raise/crash/", HTTP_X_REQUEST_ID="trace-8")

    request_records = [r for r in caplog.records if r.name in ("souk.access", "django.request")]
    assert {r.name for r in request_records} == {"souk.access", "django.request"}
    assert all(r.request_id == "trace-8" for r in request_records)


def test_access_line_as_json_has_the_request_fields(client, caplog):
    caplog.handler.addFilter(RequestContextFilter("common-tests"))
    with caplog.at_level(logging.INFO, logger="souk.access"):
        client.get("/health/live", HTTP_X_REQUEST_ID="trace-9")

    (record,) = [r for r in caplog.records if r.name == "souk.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "trace-9"
    assert line["service"] == "common-tests"
    assert line["method"] == "GET"
    assert line["path"] == "/health/live"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0
