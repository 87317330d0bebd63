"""A trivial WSGI upstream for client benchmarks: a fixed 200 JSON answer, nothing else."""

import json

BODY = json.dumps(
    {"count": 3, "next": None, "previous": None, "results": [{"id": n} for n in range(3)]}
).encode()


def application(environ, start_response):
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]
    )
    return [BODY]
