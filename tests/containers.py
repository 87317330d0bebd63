"""The containers as compose.yaml, the Dockerfile and .env.example describe them, read
without a Docker engine; and, run as a script, one container's health check.

``python containers.py healthcheck '<argv as JSON>'``, from a service's folder with
that container's environment, serves the service through Django's WSGI handler on a
free loopback port, runs the health check's ``python -c`` command in this process
with its connections to 127.0.0.1:8000 sent to that port, and prints as JSON what the
check sent and got: ``{"exit": 0, "requests": [{"path": ..., "host": ..., "status": ...}]}``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
IMAGE_ROOT = "/app"  # where the image holds what it copies from this repository
CONTAINER_PORT = 8000

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a $.
_PLACEHOLDER = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def compose() -> dict[str, Any]:
    """compose.yaml, anchors and merge keys resolved."""
    import yaml

    return dict(yaml.safe_load((REPO / "compose.yaml").read_text()))


def dockerfile(path: Path = REPO / "Dockerfile") -> list[tuple[str, str]]:
    """The Dockerfile's instructions in order, as (KEYWORD, arguments), continuations joined."""
    instructions = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        pending += " " + stripped
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return instructions


def image_environment() -> dict[str, str]:
    """The ENV the Dockerfile gives the image."""
    env: dict[str, str] = {}
    for keyword, arguments in dockerfile():
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def image_workdir() -> Path:
    """The folder of this repository that the image's working directory holds: the image
    copies the repository's folders under IMAGE_ROOT as they are (tests/e2e/test_dockerfile.py)."""
    workdirs = [arguments for keyword, arguments in dockerfile() if keyword == "WORKDIR"]
    return REPO / Path(workdirs[-1]).relative_to(IMAGE_ROOT)


def env_example() -> dict[str, str]:
    """.env.example's variables, with their (often empty) example values."""
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """A compose value with its placeholders replaced as compose does from ``variables``."""

    def replace(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"]
        present = name in variables and (variables[name] != "" or not (op or "").startswith(":"))
        if present:
            return variables[name]
        if op in (":-", "-"):
            return str(arg)
        raise KeyError(f"${{{name}}} is not set" + (f": {arg}" if arg else ""))

    return _PLACEHOLDER.sub(replace, value)


# Running one health check (in the container's environment) ----------------------------


def _serve(application: Callable[..., Any], served: list[dict[str, Any]]) -> Any:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Handler(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            served.append(
                {"path": self.path, "host": self.headers.get("Host"), "status": int(code)}
            )

    server = make_server("127.0.0.1", 0, application, handler_class=Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _run_health_check(argv: list[str]) -> None:
    from django.core.wsgi import get_wsgi_application

    if argv[:3] not in (["CMD", "python", "-c"], ["CMD", "python3", "-c"]):
        raise SystemExit(f"only `python -c` health checks can be run here, not {argv}")
    # As manage.py and wsgi.py do, from the service's folder.
    sys.path.insert(0, str(Path.cwd()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{Path.cwd().name}_service.settings")
    served: list[dict[str, Any]] = []
    server = _serve(get_wsgi_application(), served)
    port = int(server.server_address[1])

    create_connection = socket.create_connection

    def to_the_service(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if address[0] in ("127.0.0.1", "localhost") and address[1] == CONTAINER_PORT:
            address = ("127.0.0.1", port)
        return create_connection(address, *args, **kwargs)

    socket.create_connection = to_the_service  # type: ignore[assignment]
    sys.argv = ["-c", *argv[4:]]
    code = 0
    try:
        exec(compile(argv[3], "<healthcheck>", "exec"), {"__name__": "__main__"})  # noqa: S102
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception:  # noqa: BLE001 - any error makes the container unhealthy, as in Docker
        traceback.print_exc()
        code = 1
    server.shutdown()  # waits for the request in hand: its line is logged after the answer
    print(json.dumps({"exit": code, "requests": served}))


if __name__ == "__main__":
    if sys.argv[1:2] != ["healthcheck"] or len(sys.argv) != 3:
        raise SystemExit(__doc__)
    _run_health_check(json.loads(sys.argv[2]))
