"""Cross-origin requests from browsers, decided at the gateway for every route.

``GATEWAY_CORS_ORIGINS`` lists the origins (``https://shop.example``, exact, no
wildcard) whose pages may call the API from a browser. Empty, the default, means
none: the gateway adds no CORS header at all, and a browser keeps every other
origin's page from reading an answer, as it does for any site.

For an allowed origin, a preflight (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) is answered here, 204, without reaching an
upstream (it carries no token, and the route may require one), and every answer
names the origin in ``Access-Control-Allow-Origin`` and the headers a client
needs in ``Access-Control-Expose-Headers``. Other origins get no CORS header.
Tokens travel in ``Authorization``, never in cookies, so credentials are never
allowed: a page of an allowed origin still needs the user's token to act.
Upstreams' own ``Access-Control-*`` headers are dropped (proxy/headers.py): the
gateway alone decides.

django-cors-headers does this for Django views; the public listener is not
Django (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

Headers = list[tuple[bytes, bytes]]

# What a page may send: the API's own headers (token, body type, idempotency, guest
# cart, request id, trace context), beyond the ones browsers always allow.
ALLOWED_REQUEST_HEADERS = (
    "Accept, Authorization, Content-Type, Idempotency-Key, X-Cart-ID, X-Request-ID, traceparent"
)
# What a page may read of an answer, beyond the few browsers always show.
EXPOSED_RESPONSE_HEADERS = "X-Request-ID, Retry-After, Location, X-Cart-ID, ETag, WWW-Authenticate"


def checked_origin(origin: str) -> str:
    """``origin`` if it is ``scheme://host[:port]`` and nothing more, else ImproperlyConfigured."""
    parts = urlsplit(origin)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
        or "*" in origin
        or f"{parts.scheme}://{parts.netloc}" != origin
    ):
        raise ImproperlyConfigured(
            f"GATEWAY_CORS_ORIGINS: {origin!r} is not an origin such as https://shop.example "
            "(scheme, host and port only; no wildcard)."
        )
    return origin


class CorsPolicy:
    """The allowed origins, and the headers each kind of answer gets."""

    def __init__(self, origins: Iterable[str], *, max_age: int) -> None:
        self.origins = frozenset(checked_origin(origin) for origin in origins)
        self.max_age = str(max_age).encode()

    @property
    def enabled(self) -> bool:
        return bool(self.origins)

    def allows(self, origin: str | None) -> bool:
        return origin is not None and origin in self.origins

    @staticmethod
    def is_preflight(method: str, origin: str | None, requested_method: str | None) -> bool:
        return method == "OPTIONS" and origin is not None and requested_method is not None

    def preflight_headers(self, origin: str | None, methods: Iterable[str]) -> Headers:
        """The headers of the gateway's 204 to a preflight (none for another origin)."""
        if origin is None or not self.allows(origin):
            return []
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ", ".join(sorted(methods)).encode()),
            (b"access-control-allow-headers", ALLOWED_REQUEST_HEADERS.encode()),
            (b"access-control-max-age", self.max_age),
        ]

    def answer_headers(self, origin: str | None) -> Headers:
        """The headers every other answer gets (none for another origin)."""
        if origin is None or not self.allows(origin):
            return []
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", EXPOSED_RESPONSE_HEADERS.encode()),
        ]
