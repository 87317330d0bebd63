"""Which request paths may reach an upstream: decoded and checked once, here.

A path is refused (404, no upstream contacted) when it could mean one thing to
the gateway and another to the service behind it: dot segments, encoded
slashes, dots or backslashes, a percent-encoded percent (double encoding),
empty segments (``//``), control characters. Encoded characters are checked on
the raw request target (ASGI's ``raw_path``), the rest on the decoded path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Percent-encodings of "/", ".", "\" and "%": meaningful only to confuse a router.
_ENCODED_DANGER = re.compile(rb"%(2f|2e|5c|25|00)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Target:
    """A checked request target: the decoded path to route on, and what to send upstream."""

    path: str
    upstream_target: str


def checked_target(path: str, raw_path: bytes, query: bytes) -> Target | None:
    """The request's target if it is safe to route, else ``None``."""
    if not raw_path.startswith(b"/") or _ENCODED_DANGER.search(raw_path):
        return None
    if not path.startswith("/") or "//" in path or "\\" in path or _CONTROL.search(path):
        return None
    segments = path.split("/")
    if "." in segments or ".." in segments:
        return None
    # Sent on exactly as received (latin-1 maps each byte to one character and back).
    sent = raw_path.decode("latin-1")
    if query:
        sent = f"{sent}?{query.decode('latin-1')}"
    return Target(path=path, upstream_target=sent)
