"""Which headers cross the gateway, in each direction.

Hop-by-hop headers (RFC 9110 section 7.6.1, and any a ``Connection`` header names)
never cross, nor does ``Expect``: the gateway answers ``100 Continue`` to its
client itself and sends upstreams the whole body at once. A client may not
speak for the gateway: its ``X-Forwarded-*``, ``Forwarded``, ``X-Real-IP``,
``X-Souk-*`` and internal identity headers are dropped, and the gateway sets
``X-Forwarded-For/-Proto/-Host`` itself. A header value with a CR or LF is
refused outright. An upstream's ``Access-Control-*`` headers are dropped: which
origins a browser may let read an answer is the gateway's decision (proxy/cors.py).
"""

from __future__ import annotations

from collections.abc import Iterable

# Not wsgiref.util.is_hop_by_hop: its list (RFC 2616's) names "trailers" for Trailer and lacks
# Proxy-Connection, and a set lookup costs a third of its call (docs/decisions.md).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

# Set by the gateway, or meaningful only inside: never taken from a client.
NOT_FROM_CLIENTS = frozenset(
    {
        "host",
        "content-length",
        # The gateway answers "100 Continue" itself and sends upstreams whole bodies.
        "expect",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-forwarded-prefix",
        "x-real-ip",
        "x-request-id",
        "x-user-id",
        "x-user",
        "x-username",
        "x-user-roles",
        "x-user-scopes",
        "x-authenticated-user",
        "x-auth-user",
    }
)
INTERNAL_PREFIXES = ("x-internal-", "x-souk-", "x-service-")


class UnsafeHeader(ValueError):
    """A header value carries CR or LF."""


def _named_in_connection(value: str) -> set[str]:
    return {token.strip().lower() for token in value.split(",") if token.strip()}


def request_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The client's end-to-end headers worth forwarding (ASGI's lower-cased pairs), as a
    new dict; a header sent twice is joined with ", " as HTTP allows."""
    pairs = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
    dropped = set(HOP_BY_HOP)
    for name, value in pairs:
        if name == "connection":
            dropped |= _named_in_connection(value)
    headers: dict[str, str] = {}
    for name, value in pairs:
        if "\r" in value or "\n" in value:
            raise UnsafeHeader(name)
        if name in dropped or name in NOT_FROM_CLIENTS or name.startswith(INTERNAL_PREFIXES):
            continue
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def response_headers(upstream: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """The upstream's end-to-end response headers, for ASGI. The gateway sets its own
    ``X-Request-ID``, ``Content-Length`` and ``Date``, and names no server software."""
    pairs = list(upstream)
    dropped = HOP_BY_HOP | {"x-request-id", "content-length", "date", "server"}
    for name, value in pairs:
        if name.lower() == "connection":
            dropped |= _named_in_connection(value)
    return [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in pairs
        if name.lower() not in dropped and not name.lower().startswith("access-control-")
    ]
