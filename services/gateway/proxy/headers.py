"""Which headers cross the gateway, in each direction.

Hop-by-hop headers (RFC 9110 section 7.6.1, and any a ``Connection`` header names)
never cross. A client may not speak for the gateway: its ``X-Forwarded-*``,
``Forwarded``, ``X-Real-IP`` and internal identity headers are dropped, and the
gateway sets ``X-Forwarded-For/-Proto/-Host`` itself. A header value with a CR
or LF is refused outright.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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


def request_headers(environ: Mapping[str, object]) -> dict[str, str]:
    """The client's end-to-end headers worth forwarding, as a new dict."""
    dropped = HOP_BY_HOP | _named_in_connection(str(environ.get("HTTP_CONNECTION", "")))
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key == "CONTENT_TYPE":
            name = "content-type"
        else:
            continue
        text = str(value)
        if "\r" in text or "\n" in text:
            raise UnsafeHeader(name)
        if (
            not text
            or name in dropped
            or name in NOT_FROM_CLIENTS
            or name.startswith(INTERNAL_PREFIXES)
        ):
            continue
        headers[name] = text
    return headers


def response_headers(upstream: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The upstream's end-to-end response headers (the gateway adds its own X-Request-ID)."""
    pairs = list(upstream)
    dropped = HOP_BY_HOP | {"x-request-id"}
    for name, value in pairs:
        if name.lower() == "connection":
            dropped |= _named_in_connection(value)
    return [(name, value) for name, value in pairs if name.lower() not in dropped]
