"""The pieces of the hot path on their own: path checks, header filters, rate windows."""

from __future__ import annotations

import pytest
from django.core.cache.backends.locmem import LocMemCache

from proxy.headers import UnsafeHeader, request_headers, response_headers
from proxy.limits import Bulkhead, Rate, RateLimiter
from proxy.paths import checked_target


def environ(path, raw=None, query=""):
    env = {"PATH_INFO": path, "QUERY_STRING": query}
    if raw is not None:
        env["RAW_URI"] = raw
    return env


@pytest.mark.parametrize(
    "path", ["/api/x/../y", "/api/x/./y", "/api//x", "/api/x\\y", "/api/x/\x00", "api/x"]
)
def test_decoded_paths_that_could_confuse_are_refused(path):
    assert checked_target(environ(path)) is None


@pytest.mark.parametrize("raw", ["/api%2Fx/", "/api/%2e/", "/api/%252e/", "/api/%5c/", "/api/%00/"])
def test_encoded_slashes_dots_and_percents_are_refused_when_the_raw_path_is_known(raw):
    assert checked_target(environ("/api/x/", raw=raw)) is None


def test_a_clean_path_is_forwarded_as_received():
    target = checked_target(
        environ("/api/products/ä/", raw="/api/products/%C3%A4/?q=1", query="q=1")
    )

    assert target is not None
    assert target.path == "/api/products/ä/"
    assert target.upstream_target == "/api/products/%C3%A4/?q=1"


def test_without_the_raw_path_the_decoded_one_is_re_encoded():
    target = checked_target(environ(b"/api/products/a b/".decode("latin-1"), query="x=1"))

    assert target is not None
    assert target.upstream_target == "/api/products/a%20b/?x=1"


def test_request_headers_drop_hop_by_hop_named_and_client_identity_headers():
    headers = request_headers(
        {
            "HTTP_CONNECTION": "keep-alive, X-Secret",
            "HTTP_X_SECRET": "1",
            "HTTP_TE": "trailers",
            "HTTP_X_USER_ID": "7",
            "HTTP_X_INTERNAL_ROLE": "admin",
            "HTTP_X_FORWARDED_FOR": "6.6.6.6",
            "HTTP_AUTHORIZATION": "Bearer t",
            "CONTENT_TYPE": "application/json",
            "PATH_INFO": "/ignored",
        }
    )

    assert headers == {"authorization": "Bearer t", "content-type": "application/json"}


def test_a_header_value_with_a_line_break_is_refused():
    with pytest.raises(UnsafeHeader):
        request_headers({"HTTP_X_EVIL": "a\r\nInjected: 1"})


def test_response_headers_drop_hop_by_hop_and_those_named_in_connection():
    kept = response_headers(
        [
            ("Content-Type", "application/json"),
            ("Connection", "X-Private"),
            ("X-Private", "1"),
            ("Transfer-Encoding", "chunked"),
            ("X-Request-ID", "from-upstream"),
        ]
    )

    assert kept == [("Content-Type", "application/json")]


def test_rates_parse():
    assert Rate.parse("20/min") == Rate(20, 60)
    assert Rate.parse("5/s") == Rate(5, 1)
    with pytest.raises(ValueError, match="rate"):
        Rate.parse("5/fortnight")


def test_rate_limiter_counts_per_window_and_says_when_to_retry():
    clock = [1000.0]
    limiter = RateLimiter(
        LocMemCache("rate-test", {}), {"default": {"address": "2/min"}}, clock=lambda: clock[0]
    )
    ident = {"address": "203.0.113.1"}

    assert limiter.retry_after("default", ident) is None
    assert limiter.retry_after("default", ident) is None
    assert limiter.retry_after("default", ident) == 20  # the window ends at 1020
    assert limiter.retry_after("default", {"address": "203.0.113.2"}) is None
    clock[0] = 1021.0
    assert limiter.retry_after("default", ident) is None


def test_bulkhead_refuses_beyond_its_size():
    bulkhead = Bulkhead(2)

    assert bulkhead.try_enter()
    assert bulkhead.try_enter()
    assert not bulkhead.try_enter()
    bulkhead.leave()
    assert bulkhead.try_enter()
