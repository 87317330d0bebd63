"""A real upstream HTTP server (in a thread) that answers what it received."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class EchoHandler(BaseHTTPRequestHandler):
    """Answers 200 with the method, path, headers and body it received."""

    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.server.received.append(  # type: ignore[attr-defined]
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers),
                "request_ids": self.headers.get_all("X-Request-ID"),
                "body": body,
            }
        )
        if self.path.startswith("/health/ready") and self.server.ready_status != 200:  # type: ignore[attr-defined]
            status = self.server.ready_status  # type: ignore[attr-defined]
        else:
            status = 200
        payload = json.dumps(
            {"upstream": self.server.name, "method": self.command, "path": self.path}  # type: ignore[attr-defined]
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format, *args):
        pass


class EchoServer(ThreadingHTTPServer):
    # Pooled keep-alive connections stay open; do not wait for them on shutdown.
    daemon_threads = True
    block_on_close = False


class Upstream:
    def __init__(self, name):
        self.server = EchoServer(("127.0.0.1", 0), EchoHandler)
        self.server.name = name
        self.server.received = []
        self.server.ready_status = 200
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def received(self):
        return self.server.received

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def closed_port_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def upstreams(settings):
    servers = {name: Upstream(name) for name in ("users", "products", "orders")}
    settings.GATEWAY_UPSTREAMS = {name: server.url for name, server in servers.items()}
    yield servers
    for server in servers.values():
        server.stop()
