"""Both log formats carry the same fields and cannot be split by hostile values."""

import json
import logging

import pytest

from souk_common.logging import (
    JsonFormatter,
    KeyValueFormatter,
    RequestContextFilter,
    logging_config,
    request_id_var,
    traceparent_var,
)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def make_record(msg="hello %s", args=("world",), **extra):
    record = logging.LogRecord("shop", logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    RequestContextFilter("users").filter(record)
    return record


def test_keyvalue_line_has_service_request_id_and_extras():
    token = request_id_var.set("abc123")
    try:
        line = KeyValueFormatter().format(make_record(order_id=7))
    finally:
        request_id_var.reset(token)

    assert "service=users" in line
    assert "request_id=abc123" in line
    assert 'msg="hello world"' in line
    assert "order_id=7" in line


def test_every_line_names_the_trace_of_its_request_or_event():
    token = traceparent_var.set(TRACEPARENT)
    try:
        traced = KeyValueFormatter().format(make_record())
    finally:
        traceparent_var.reset(token)
    untraced = json.loads(JsonFormatter().format(make_record()))

    assert "trace_id=4bf92f3577b34da6a3ce929d0e0e4736" in traced
    assert untraced["trace_id"] == "-"


def test_keyvalue_quotes_values_that_would_split_the_line():
    line = KeyValueFormatter().format(make_record("a\nb", ()))

    assert "\n" not in line
    assert 'msg="a\\nb"' in line


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain", "plain"),
        ("", '""'),
        ("two words", '"two words"'),
        ("k=v", '"k=v"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("a\rb", '"a\\rb"'),
        ("a\tb", '"a\\tb"'),
        (7, "7"),
        (None, "None"),
    ],
)
def test_keyvalue_quotes_exactly_the_values_that_need_it(value, shown):
    line = KeyValueFormatter().format(make_record(detail=value))

    assert line.endswith(f" detail={shown}")


def test_the_timestamp_is_utc_to_the_millisecond():
    record = make_record()
    record.created = 1796083158.0456  # 2026-11-30 23:59:18.045 UTC
    formatter = KeyValueFormatter()

    first = formatter.format(record)
    record.created += 1.5
    second = json.loads(JsonFormatter().format(record))["ts"]

    assert first.startswith("ts=2026-11-30T23:59:18.045+00:00 ")
    assert second == "2026-11-30T23:59:19.545+00:00"
    assert formatter.format(record).startswith("ts=2026-11-30T23:59:19.545+00:00 ")


def test_json_line_is_one_object():
    record = make_record()
    parsed = json.loads(JsonFormatter().format(record))

    assert parsed["msg"] == "hello world"
    assert parsed["request_id"] == "-"
    assert parsed["level"] == "info"


def test_json_line_includes_the_traceback_as_a_field():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("shop", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    RequestContextFilter("users").filter(record)

    parsed = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in parsed["exc_info"]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown log format"):
        logging_config(service="users", fmt="xml")
