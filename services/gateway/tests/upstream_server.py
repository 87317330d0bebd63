"""A real upstream for the gateway's tests, run as its own process.

    python upstream_server.py <name> <port>

Answers every request with what it received, and behaves on demand:
``.../slow/<seconds>`` sleeps first, ``.../status/<code>`` answers that code,
``.../big/<bytes>`` streams that many bytes (chunked), ``.../hop`` answers with
hop-by-hop headers the gateway must drop, ``.../cors`` with CORS headers of its own,
``.../etag`` with ``ETag: "v1"`` and ``Vary: Accept`` (a bodiless 304 to
``If-None-Match: "v1"``). Some answer wrongly on purpose:
``.../early-hints`` sends a ``103`` first, ``.../overlong`` a body longer than
its ``Content-Length`` (the excess looks like another answer), ``.../cut``
closes the connection inside the body, ``.../drop`` without answering at all.
Like any ``http.server``, it answers ``Expect: 100-continue`` with its own
``100 Continue``. ``GET /__received`` lists what it received (``DELETE``
forgets); ``POST /__ready/<code>`` sets its readiness, ``POST /__schema/<code>`` the
status of its schema, and ``GET /__schema_asked`` says how often it was asked for it.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCHEMA = {
    "openapi": "3.0.3",
    "info": {"title": "echo", "version": "1", "description": "An echo service."},
    "paths": {
        "/api/{prefix}/things/": {
            "get": {
                "operationId": "things_list",
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                        }
                    }
                },
            }
        },
        "/internal/secret/": {"get": {"operationId": "secret", "responses": {"200": {}}}},
    },
    "components": {"schemas": {"Thing": {"type": "object"}}},
}


class State:
    def __init__(self, name: str) -> None:
        self.name = name
        self.received: list[dict] = []
        self.ready = 200
        self.schema_status = 200
        self.schema_asked = 0
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    state: State

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, extra: list[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: object, extra: list[tuple[str, str]] = ()) -> None:
        self._send(status, json.dumps(payload).encode(), extra)

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        path = self.path
        if path.startswith("/__received"):
            with self.state.lock:
                if self.command == "DELETE":
                    self.state.received.clear()
                return self._json(200, self.state.received)
        if path.startswith("/__ready/"):
            self.state.ready = int(path.rsplit("/", 1)[1])
            return self._json(200, {"ready": self.state.ready})
        if path.startswith("/health/ready"):
            return self._json(
                self.state.ready, {"status": "ok" if self.state.ready == 200 else "no"}
            )
        if path.startswith("/__schema/"):
            self.state.schema_status = int(path.rsplit("/", 1)[1])
            return self._json(200, {"schema_status": self.state.schema_status})
        if path.startswith("/__schema_asked"):
            return self._json(200, {"asked": self.state.schema_asked})
        if path.startswith("/api/schema/"):
            with self.state.lock:
                self.state.schema_asked += 1
            if self.state.schema_status != 200:
                return self._json(self.state.schema_status, {"detail": "no schema"})
            text = json.dumps(SCHEMA).replace("{prefix}", self.state.name)
            return self._send(200, text.encode())
        with self.state.lock:
            self.state.received.append(
                {
                    "method": self.command,
                    "path": path,
                    "headers": [[k.lower(), v] for k, v in self.headers.items()],
                    "body": body,
                }
            )
        parts = path.split("?")[0].rstrip("/").split("/")
        if "early-hints" in parts:
            self.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n")
            self.wfile.flush()
        if "overlong" in parts:
            body = json.dumps({"upstream": self.state.name, "path": path}).encode()
            smuggled = b'{"smuggled": true}'
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s"
                % (len(body), body)
                + b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(smuggled), smuggled)
            )
            return None
        if "drop" in parts:
            self.close_connection = True
            return None
        if "cut" in parts:
            self.wfile.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial')
            self.close_connection = True
            return None
        if "slow" in parts:
            time.sleep(float(parts[parts.index("slow") + 1]))
        if "status" in parts:
            code = int(parts[parts.index("status") + 1])
            return self._json(code, {"upstream": self.state.name, "status": code})
        if "big" in parts:
            size = int(parts[parts.index("big") + 1])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            sent = 0
            while sent < size:
                piece = chunk[: min(len(chunk), size - sent)]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                sent += len(piece)
            self.wfile.write(b"0\r\n\r\n")
            return None
        extra: list[tuple[str, str]] = []
        if "hop" in parts:
            extra = [
                ("Connection", "X-Upstream-Private"),
                ("X-Upstream-Private", "secret"),
                ("Keep-Alive", "timeout=5"),
                ("Proxy-Authenticate", "Basic"),
                ("Trailer", "X-Checksum"),
                ("Upgrade", "h2c"),
                ("X-Kept", "yes"),
            ]
        if "cors" in parts:
            extra = [
                ("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Credentials", "true"),
            ]
        if "etag" in parts:
            extra = [("ETag", '"v1"'), ("Vary", "Accept")]
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                for name, value in extra:
                    self.send_header(name, value)
                self.end_headers()
                return None
        return self._json(
            200, {"upstream": self.state.name, "method": self.command, "path": path}, extra
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    # A deep backlog: while the process is stopped, the kernel still accepts connections,
    # which is what a hung service looks like from outside.
    request_queue_size = 1024
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


def main() -> None:
    name, port = sys.argv[1], int(sys.argv[2])
    Handler.state = State(name)
    server = Server(("127.0.0.1", port), Handler)
    print(f"upstream {name} on {port}", flush=True)
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
