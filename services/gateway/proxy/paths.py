"""Which request paths may reach an upstream: decoded and checked once, here.

A path is refused (404, no upstream contacted) when it could mean one thing to
the gateway and another to the service behind it: dot segments, encoded
slashes, dots or backslashes, a percent-encoded percent (double encoding),
empty segments (``//``), control characters. When the server passes the raw
request target (gunicorn's ``RAW_URI``), encoded characters are checked on
it; the decoded path is checked always.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

# Percent-encodings of "/", ".", "\" and "%": meaningful only to confuse a router.
_ENCODED_DANGER = re.compile(r"%(2f|2e|5c|25|00)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SAFE_IN_PATH = "/:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class Target:
    """A checked request target: the decoded path to route on, and what to send upstream."""

    path: str
    upstream_target: str


def checked_target(environ: dict[str, object]) -> Target | None:
    """The request's target if it is safe to route, else ``None``."""
    path = str(environ.get("PATH_INFO") or "/")
    query = str(environ.get("QUERY_STRING") or "")
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw is not None:
        raw_path = str(raw).split("?", 1)[0]
        if _ENCODED_DANGER.search(raw_path):
            return None
        sent = raw_path
    else:
        sent = quote(path.encode("latin-1").decode("utf-8", "replace"), safe=_SAFE_IN_PATH)
    if not path.startswith("/") or "//" in path or "\\" in path or _CONTROL.search(path):
        return None
    segments = path.split("/")
    if "." in segments or ".." in segments:
        return None
    return Target(path=path, upstream_target=f"{sent}?{query}" if query else sent)
