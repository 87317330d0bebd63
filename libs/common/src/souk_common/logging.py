"""Structured logging with the current request id in every line.

Two formats share one set of fields: ``keyvalue`` (readable in a terminal) and
``json`` (one object per line, for log collectors). The request id lives in a
context variable set by :class:`souk_common.middleware.RequestIdMiddleware`, so
any logger, anywhere in a request, prints it without being passed it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from contextvars import ContextVar
from typing import Any

#: The id of the request being handled in this context; "-" outside a request.
request_id_var: ContextVar[str] = ContextVar("souk_request_id", default="-")
#: The W3C trace context of the request or event being handled ("" if none): the one it
#: came with, or its span's while tracing (souk_common.tracing). Calls and events made
#: while handling it carry it on, so one trace runs from the request through its consumers.
traceparent_var: ContextVar[str] = ContextVar("souk_traceparent", default="")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "trace_id", "service", "taskName"}
)


def current_request_id() -> str:
    """Return the id of the request being handled, or "-" outside a request."""
    return request_id_var.get()


def trace_id(traceparent: str) -> str:
    """The trace id of a W3C ``traceparent`` (``00-<trace id>-<parent id>-<flags>``), or "-"."""
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else "-"


class RequestContextFilter(logging.Filter):
    """Stamp each record with the service name, the current request id and trace id."""

    def __init__(self, service: str = "") -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.trace_id = trace_id(traceparent_var.get())
        record.service = self.service
        return True


def _timestamp(created: float, cache: list[Any]) -> str:
    """``created`` as ISO 8601 UTC to the millisecond; the part up to the second is built
    once per second (``cache`` holds the last second and its text)."""
    second = int(created)
    if cache[0] != second:
        cache[0], cache[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{cache[1]}.{int((created - second) * 1000):03d}+00:00"


def _fields(record: logging.LogRecord, cache: list[Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ts": _timestamp(record.created, cache),
        "level": record.levelname.lower(),
        "service": getattr(record, "service", ""),
        "pid": record.process,
        "logger": record.name,
        "request_id": getattr(record, "request_id", "-"),
        "trace_id": getattr(record, "trace_id", "-"),
        "msg": record.getMessage(),
    }
    for key, value in vars(record).items():
        if key not in _RECORD_ATTRIBUTES and key[0] != "_":
            fields[key] = value
    return fields


# A value with one of these would split the line or blur where it ends: it is quoted.
_NEEDS_QUOTES = re.compile(r'[ "=\n\r\t]')


def _quote(value: Any) -> str:
    text = value if type(value) is str else str(value)
    if not text or _NEEDS_QUOTES.search(text):
        return json.dumps(text)
    return text


class KeyValueFormatter(logging.Formatter):
    """Format a record as ``key=value`` pairs, quoting values that need it.

    It runs for every access line of every service, so it is written for speed: the
    second's text built once a second, one regular expression deciding the quotes (half
    the time of a datetime per line and a scan per character, docs/benchmarks.md).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._second: list[Any] = [None, ""]

    def format(self, record: logging.LogRecord) -> str:
        line = " ".join(
            [f"{key}={_quote(value)}" for key, value in _fields(record, self._second).items()]
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object per line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._second: list[Any] = [None, ""]

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record, self._second)
        if record.exc_info:
            fields["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(fields, default=str)


def logging_config(*, service: str, fmt: str = "keyvalue", level: str = "INFO") -> dict[str, Any]:
    """Return a ``LOGGING`` dict that sends every log line to stderr in ``fmt``.

    ``fmt`` is ``"keyvalue"`` or ``"json"``.
    """
    formatter = {"json": JsonFormatter, "keyvalue": KeyValueFormatter}.get(fmt)
    if formatter is None:
        raise ValueError(f"unknown log format {fmt!r}: use 'keyvalue' or 'json'")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": RequestContextFilter, "service": service}},
        "formatters": {"structured": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "filters": ["context"],
                "formatter": "structured",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            # The access line comes from RequestIdMiddleware; Django's own
            # request logger would repeat 4xx/5xx responses without adding anything.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }
