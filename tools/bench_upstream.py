"""A trivial WSGI upstream for client benchmarks: a fixed 200 JSON answer, nothing else."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

BODY = json.dumps(
    {"count": 3, "next": None, "previous": None, "results": [{"id": n} for n in range(3)]}
).encode()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]
    )
    return [BODY]
