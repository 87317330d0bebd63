"""Five hand-written pieces against the library that does the same job, side by side.

    python tools/bench_choices.py [--rounds 5]    # or: nox -s bench -- choices

For each: what both do with the same inputs (the cases where they differ), and
the cost of one call of each, timed with timeit in interleaved rounds (median
of the rounds). Writes the section "Hand-written against libraries" of
docs/benchmarks.md; docs/decisions.md says what was decided from it.

- ``ServiceEnv``'s scalars against ``environ.Env`` (django-environ);
- the gateway's ``Rate.parse`` against DRF's ``SimpleRateThrottle.parse_rate``;
- the gateway's hop-by-hop set against ``wsgiref.util.is_hop_by_hop``;
- ``souk_common.network`` against python-ipware (what django-ipware runs);
- ``souk_common.jwks.JwksKeySet`` against PyJWT's ``PyJWKClient``, on a local
  JWK Set server that counts the fetches.

python-ipware is installed by the bench session only: the project does not use it.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import threading
import time
import timeit
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import astuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from wsgiref.util import is_hop_by_hop

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "services" / "gateway"))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    LOGGING_CONFIG=None,
)
django.setup()

import environ  # noqa: E402
import jwt  # noqa: E402
from python_ipware import IpWare  # noqa: E402
from rest_framework.throttling import SimpleRateThrottle  # noqa: E402

from proxy.headers import HOP_BY_HOP, request_headers  # noqa: E402
from proxy.limits import Rate  # noqa: E402
from souk_common.jwks import JwksKeySet  # noqa: E402
from souk_common.keys import SigningKey  # noqa: E402
from souk_common.network import client_address, client_address_after_hops  # noqa: E402
from souk_common.settings import ServiceEnv  # noqa: E402
from souk_common.testing import jwks_document  # noqa: E402

logging.disable(logging.WARNING)  # the failed JWKS refreshes below are on purpose
SECTION = "Hand-written against libraries"


def outcome(call: Callable[[], Any]) -> str:
    """What a call returned, or the exception it raised, as one short table cell."""
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001 - the exception is the answer being compared
        message = str(exc).splitlines()[0] if str(exc) else ""
        return f"{type(exc).__name__}{': ' + message if message else ''}"
    return repr(value)


def time_pairs(
    pairs: dict[str, tuple[Callable[[], Any], Callable[[], Any]]], rounds: int
) -> list[tuple[str, float, float]]:
    """Microseconds per call of ours and the library's, interleaved rounds, medians."""
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in pairs}
    for _ in range(rounds):
        for name, (ours, library) in pairs.items():
            for index, call in enumerate((ours, library)):
                timer = timeit.Timer(call)
                number, _ = timer.autorange()
                per_call = min(timer.repeat(repeat=3, number=number)) / number
                samples[name][index].append(per_call * 1e6)
    return [
        (name, statistics.median(ours), statistics.median(library))
        for name, (ours, library) in samples.items()
    ]


def timing_table(rows: list[tuple[str, float, float]], library: str) -> str:
    lines = [
        f"| call | ours (us) | {library} (us) | library / ours |",
        "|---|---:|---:|---:|",
    ]
    for name, ours, theirs in rows:
        lines.append(f"| {name} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.1f}x |")
    return "\n".join(lines)


def behaviour_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# ServiceEnv against environ.Env -------------------------------------------------------


def compare_settings(rounds: int) -> str:
    def ours(value: str) -> ServiceEnv:
        return ServiceEnv("users", base_dir=REPO, environ_={"VALUE": value})

    def theirs(value: str) -> environ.Env:
        env = environ.Env()
        env.ENVIRON = {"VALUE": value}
        return env

    cases = [
        ("bool", "maybe", lambda e: e.get_bool("VALUE"), lambda e: e.bool("VALUE", False)),
        ("bool", "2", lambda e: e.get_bool("VALUE"), lambda e: e.bool("VALUE", False)),
        ("int", "", lambda e: e.get_int("VALUE", 3), lambda e: e.int("VALUE", 3)),
        ("int", "three", lambda e: e.get_int("VALUE", 3), lambda e: e.int("VALUE", 3)),
        (
            "float",
            "3 seconds",
            lambda e: e.get_float("VALUE", 1.0),
            lambda e: e.float("VALUE", 1.0),
        ),
        ("float", "1.5.2", lambda e: e.get_float("VALUE", 1.0), lambda e: e.float("VALUE", 1.0)),
        ("list", "a, b,,c", lambda e: e.get_list("VALUE"), lambda e: e.list("VALUE", default=[])),
        ("str", "$ecret", lambda e: e.get_str("VALUE"), lambda e: e.str("VALUE", "")),
    ]
    rows = [
        (
            kind,
            f"`{value}`",
            outcome(lambda mine=mine, value=value: mine(ours(value))),
            outcome(lambda lib=lib, value=value: lib(theirs(value))),
        )
        for kind, value, mine, lib in cases
    ]
    env_ours, env_theirs = ours("true"), theirs("true")
    int_ours, int_theirs = ours("31536000"), theirs("31536000")
    timings = time_pairs(
        {
            "bool `true`": (lambda: env_ours.get_bool("VALUE"), lambda: env_theirs.bool("VALUE")),
            "int `31536000`": (
                lambda: int_ours.get_int("VALUE", 0),
                lambda: int_theirs.int("VALUE", 0),
            ),
        },
        rounds,
    )
    return (
        "### `ServiceEnv` against django-environ's `Env`\n\n"
        + behaviour_table(("type", "value", "ServiceEnv", "environ.Env"), rows)
        + "\n\n"
        + timing_table(timings, "environ.Env")
    )


# Rate.parse against DRF's parse_rate ----------------------------------------------------


def drf_parse_rate(text: str) -> tuple[int, int]:
    # parse_rate uses nothing of the throttle it is a method of.
    result: tuple[int, int] = SimpleRateThrottle.parse_rate(None, text)  # type: ignore[arg-type]
    return result


def compare_rates(rounds: int) -> str:
    texts = ["20/min", "20/minute", "5/s", "100/day", "5/month", "5/mango", "5/ min", "5/"]
    rows = [
        (
            f"`{text}`",
            outcome(lambda text=text: astuple(Rate.parse(text))),
            outcome(lambda text=text: drf_parse_rate(text)),
        )
        for text in texts
    ]
    timings = time_pairs(
        {"`1200/min`": (lambda: Rate.parse("1200/min"), lambda: drf_parse_rate("1200/min"))},
        rounds,
    )
    return (
        "### The gateway's `Rate.parse` against DRF's `SimpleRateThrottle.parse_rate`\n\n"
        + behaviour_table(("rate", "Rate.parse (limit, seconds)", "parse_rate"), rows)
        + "\n\n"
        + timing_table(timings, "parse_rate")
    )


# The hop-by-hop set against wsgiref ---------------------------------------------------

# What a browser sends through the gateway to an API (ASGI's lower-cased pairs).
BROWSER_REQUEST = [
    (b"host", b"shop.example.com"),
    (b"connection", b"keep-alive"),
    (b"accept", b"application/json"),
    (b"accept-encoding", b"gzip, deflate, br"),
    (b"accept-language", b"en-GB,en;q=0.9"),
    (b"authorization", b"Bearer " + b"x" * 600),
    (b"content-type", b"application/json"),
    (b"content-length", b"64"),
    (b"origin", b"https://shop.example.com"),
    (b"referer", b"https://shop.example.com/cart"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"),
    (b"idempotency-key", b"3f1c2a9e-4b7d-4e0f-9a52-8d6c1b2e7f30"),
]


def request_headers_wsgiref(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """proxy.headers.request_headers, with wsgiref's is_hop_by_hop in place of our set."""
    from proxy.headers import INTERNAL_PREFIXES, NOT_FROM_CLIENTS, UnsafeHeader

    pairs = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
    named: set[str] = set()
    for name, value in pairs:
        if name == "connection":
            named |= {token.strip().lower() for token in value.split(",") if token.strip()}
    headers: dict[str, str] = {}
    for name, value in pairs:
        if "\r" in value or "\n" in value:
            raise UnsafeHeader(name)
        if (
            is_hop_by_hop(name)
            or name in named
            or name in NOT_FROM_CLIENTS
            or name.startswith(INTERNAL_PREFIXES)
        ):
            continue
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def compare_hop_by_hop(rounds: int) -> str:
    names = sorted(HOP_BY_HOP | {"trailers"})  # ASGI names are lower-case already
    rows = [
        (f"`{name}`", str(name in HOP_BY_HOP), str(is_hop_by_hop(name)))
        for name in names
        if (name in HOP_BY_HOP) != is_hop_by_hop(name)
    ]
    assert request_headers(BROWSER_REQUEST) == request_headers_wsgiref(BROWSER_REQUEST)
    timings = time_pairs(
        {
            "membership, one name": (
                lambda: "accept-language" in HOP_BY_HOP,
                lambda: is_hop_by_hop("accept-language"),
            ),
            "request_headers, a browser's 12 headers": (
                lambda: request_headers(BROWSER_REQUEST),
                lambda: request_headers_wsgiref(BROWSER_REQUEST),
            ),
        },
        rounds,
    )
    return (
        "### The gateway's hop-by-hop set against `wsgiref.util.is_hop_by_hop`\n\n"
        "Where they differ (the rest of RFC 9110's and RFC 2616's list they agree on):\n\n"
        + behaviour_table(("header", "in HOP_BY_HOP", "is_hop_by_hop"), rows)
        + "\n\n"
        + timing_table(timings, "wsgiref")
    )


# The client's address against python-ipware ------------------------------------------

SECRET = "the-gateway-proxy-secret"  # a made-up value for the comparison


def compare_client_address(rounds: int) -> str:
    # django-ipware's default, and configured as close to ours as it goes: one trusted
    # proxy in front that appended the client's address, only X-Forwarded-For believed.
    ipware_default = IpWare()
    ipware_one_hop = IpWare(precedence=("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"), proxy_count=0)
    ipware_count_one = IpWare(proxy_count=1)

    def ipware(engine: IpWare, meta: dict[str, str]) -> str:
        address, _trusted = engine.get_client_ip(meta, strict=False)
        return str(address)

    secret_meta = "HTTP_X_SOUK_PROXY_SECRET"
    cases: list[tuple[str, dict[str, str], Callable[[dict[str, str]], str]]] = [
        (
            "service, a client writes X-Forwarded-For",
            {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.2.3.4"},
            lambda meta: client_address(meta, proxy_secret=SECRET),
        ),
        (
            "service, a process beside the gateway writes it, no secret",
            {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "198.51.100.7"},
            lambda meta: client_address(meta, proxy_secret=SECRET),
        ),
        (
            "service, the gateway (with the secret)",
            {
                "REMOTE_ADDR": "10.0.0.5",
                "HTTP_X_FORWARDED_FOR": "198.51.100.7",
                secret_meta: SECRET,
            },
            lambda meta: client_address(meta, proxy_secret=SECRET),
        ),
        (
            "service, a client writes X-Real-IP",
            {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_REAL_IP": "1.2.3.4"},
            lambda meta: client_address(meta, proxy_secret=SECRET),
        ),
        (
            "gateway, 1 trusted proxy, client prepends a lie",
            {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"},
            lambda meta: client_address_after_hops(meta, 1),
        ),
        (
            "gateway, 1 trusted proxy, no X-Forwarded-For",
            {"REMOTE_ADDR": "10.0.0.2"},
            lambda meta: client_address_after_hops(meta, 1),
        ),
    ]
    rows = [
        (
            name,
            ours(meta),
            ipware(ipware_default, meta),
            ipware(ipware_one_hop, meta),
            ipware(ipware_count_one, meta),
        )
        for name, meta, ours in cases
    ]
    gateway_meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"}
    service_meta = {
        "REMOTE_ADDR": "10.0.0.5",
        "HTTP_X_FORWARDED_FOR": "198.51.100.7",
        secret_meta: SECRET,
    }
    timings = time_pairs(
        {
            "gateway, 1 trusted proxy": (
                lambda: client_address_after_hops(gateway_meta, 1),
                lambda: ipware(ipware_one_hop, gateway_meta),
            ),
            "service, from the gateway (ipware: no secret check)": (
                lambda: client_address(service_meta, proxy_secret=SECRET),
                lambda: ipware(ipware_one_hop, service_meta),
            ),
        },
        rounds,
    )
    return (
        "### `souk_common.network` against python-ipware (django-ipware's engine)\n\n"
        "Columns: ours (a service: the proxy-secret rule; the gateway: "
        "`GATEWAY_TRUSTED_PROXY_COUNT=1`); ipware as it comes; ipware set up as close to "
        "ours as it goes (only `X-Forwarded-For`, then the peer; `proxy_count=0`: the "
        "client's entry is the last); ipware with `proxy_count=1` (it counts proxies "
        "after the client's entry, not the proxies that wrote them).\n\n"
        + behaviour_table(
            ("request", "ours", "ipware default", "ipware XFF, count 0", "ipware count 1"), rows
        )
        + "\n\n"
        + timing_table(timings, "ipware")
    )


# JwksKeySet against PyJWKClient -------------------------------------------------------


class JwksServer:
    """A JWK Set on a local port that counts its GETs; may fail (503) or answer slowly."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.gets = 0
        self.failing = False
        self.delay = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer.gets += 1
                time.sleep(outer.delay)
                status = 503 if outer.failing else 200
                body = b"{}" if outer.failing else json.dumps(outer.document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/auth/jwks.json"

    @contextmanager
    def running(self) -> Iterator[JwksServer]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def pyjwk_get(client: jwt.PyJWKClient, kid: str) -> Any:
    try:
        return client.get_signing_key(kid).key
    except jwt.PyJWKClientError:
        return None


def compare_jwks(rounds: int) -> str:
    key = SigningKey.generate()
    rows: list[tuple[str, str, str]] = []

    def fresh(**ours_options: Any) -> tuple[JwksServer, JwksKeySet, jwt.PyJWKClient]:
        server = JwksServer(jwks_document(key.public))
        lifespan = int(ours_options.get("cache_seconds", 300))
        return (
            server,
            JwksKeySet(server.url, **ours_options),
            jwt.PyJWKClient(server.url, lifespan=lifespan, timeout=2),
        )

    # An attacker's tokens naming 50 random kids, after one genuine one.
    server, ours, theirs = fresh()
    with server.running():
        counts = []
        for get in (lambda kid: ours.get(kid), lambda kid: pyjwk_get(theirs, kid)):
            server.gets = 0
            get(key.kid)
            for index in range(50):
                get(f"random-{index}")
            counts.append(str(server.gets))
        rows.append(("fetches for 1 known then 50 unknown kids", *counts))

    # The users service answers 503 when the cached set has gone stale.
    server, ours, theirs = fresh(cache_seconds=1)
    with server.running():
        ours.get(key.kid)
        pyjwk_get(theirs, key.kid)
        time.sleep(1.1)
        server.failing = True
        rows.append(
            (
                "a known kid while the JWK Set answers 503 (cache stale)",
                "key kept" if ours.get(key.kid) is not None else "no key",
                outcome(lambda: theirs.get_signing_key(key.kid)),
            )
        )
        server.failing = False
        server.gets = 0
        ours.get(key.kid)
        pyjwk_get(theirs, key.kid)

    # An entry whose kid names another key than its own.
    other = SigningKey.generate()
    lying = {**key.public.to_jwk(), "kid": other.kid}
    server = JwksServer({"keys": [lying]})
    with server.running():
        ours_lying = JwksKeySet(server.url)
        theirs_lying = jwt.PyJWKClient(server.url)
        rows.append(
            (
                "an entry whose kid is not its key's thumbprint, looked up by that kid",
                "found" if ours_lying.get(other.kid) is not None else "not found",
                "found" if pyjwk_get(theirs_lying, other.kid) is not None else "not found",
            )
        )

    # Eight threads verifying the first tokens at once, the JWK Set taking 50 ms.
    server, ours, theirs = fresh()
    server.delay = 0.05
    with server.running():
        counts = []
        for get in (lambda: ours.get(key.kid), lambda: pyjwk_get(theirs, key.kid)):
            server.gets = 0
            threads = [threading.Thread(target=get) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            counts.append(str(server.gets))
        rows.append(("fetches when 8 threads need a key at once (cold cache)", *counts))

    rows.append(("fetch timeout by default", "2 s (`JWKS_TIMEOUT`)", "30 s"))

    server, ours, theirs = fresh()
    with server.running():
        cached = jwt.PyJWKClient(server.url, cache_keys=True)
        ours.get(key.kid)
        pyjwk_get(theirs, key.kid)
        pyjwk_get(cached, key.kid)
        timings = time_pairs(
            {
                "a known kid, cached (PyJWKClient default)": (
                    lambda: ours.get(key.kid),
                    lambda: theirs.get_signing_key(key.kid),
                ),
                "a known kid, cached (PyJWKClient `cache_keys=True`)": (
                    lambda: ours.get(key.kid),
                    lambda: cached.get_signing_key(key.kid),
                ),
            },
            rounds,
        )
    return (
        "### `souk_common.jwks.JwksKeySet` against PyJWT's `PyJWKClient`\n\n"
        + behaviour_table(("case", "JwksKeySet", "PyJWKClient"), rows)
        + "\n\n"
        + timing_table(timings, "PyJWKClient")
    )


def main(rounds: int) -> str:
    """Run every comparison; write and return the section."""
    parts = [
        compare_settings(rounds),
        compare_rates(rounds),
        compare_hop_by_hop(rounds),
        compare_client_address(rounds),
        compare_jwks(rounds),
    ]
    body = (
        f"\n`nox -s bench -- choices --rounds {rounds}` (`tools/bench_choices.py`): each "
        "hand-written piece and the library that would replace it, on the same inputs, "
        "and the cost of one call of each (timeit, median of "
        f"{rounds} interleaved rounds, this run's Python {sys.version.split()[0]}). "
        "What was decided from it: [decisions.md](decisions.md).\n\n" + "\n\n".join(parts)
    )
    from bench import write_section

    write_section(SECTION, body)
    return body


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    print(main(parser.parse_args().rounds))
