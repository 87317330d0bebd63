"""Run the gateway's public listener: ``python -m gateway_service.serve [--port N] ...``.

uvicorn on uvloop serves ``gateway_service.asgi:application`` with the edge's
own HTTP protocol (``proxy.server.EdgeProtocol``): an event loop per worker
process, so slow or idle clients hold no thread. Who the client is comes from
the gateway's own rules (``GATEWAY_TRUSTED_PROXY_COUNT``), never from uvicorn's
proxy-header handling, which is off.
"""

from __future__ import annotations

import argparse
import os

import uvicorn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("GATEWAY_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT") or 8000))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS") or 1))
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_service.settings")
    uvicorn.run(
        "gateway_service.asgi:application",
        host=args.host,
        port=args.port,
        workers=args.workers,
        http="proxy.server:EdgeProtocol",
        loop="uvloop",
        ws="none",
        lifespan="on",
        interface="asgi3",
        proxy_headers=False,
        server_header=False,
        access_log=False,  # the gateway writes its own access lines, with request ids
        log_config=None,  # Django's LOGGING formats every line, uvicorn's included
        log_level="warning",
        backlog=2048,
        timeout_keep_alive=int(os.environ.get("GATEWAY_KEEP_ALIVE_SECONDS") or 5),
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
