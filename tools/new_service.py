"""A new service, whole and registered everywhere: `nox -s new-service -- <name> [--port N]`.

``python tools/new_service.py cart --port 8004``, from a virtualenv with Django and
souk_common (nox runs it in the shared one), writes ``services/cart/`` from
``tools/service_template/``: every file there, with ``.tmpl`` dropped from its name and
``{{name}}`` (``cart``), ``{{Name}}`` (``Cart``) replaced in its path and text. Then it
registers the service wherever the repository lists its services:

- ``noxfile.py``: ``SERVICES`` (type checks, unit tests, migrations);
- ``tools/stack.py``: ``SERVICES``, ``DEFAULT_THREADS`` and ``PROCESSES`` with its port
  (``nox -s up``, and the system tests, which read their services from there);
- ``pyproject.toml``: ruff's ``src``, import-linter's packages, a contract that it imports
  no other service's code (and theirs, that they import none of its), its services and
  selectors in the contract that keeps DRF out of them;
- ``compose.yaml`` (its container and its PostgreSQL) and ``.env.example`` (their secrets).

Last, ``makemigrations`` makes its app's first migration. Which public paths the gateway
sends to it is its author's decision: the generator prints what to add, and where.

It refuses a name that is taken (a service, a package of one, a module Python already
finds) and a port another process of the stack has, and writes nothing unless it can make
every change. A list that already names the service is left as it is.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "service_template"
# Lowercase letters and digits: a Python package, a compose service and a host name alike
# (Django refuses a Host with an underscore); short enough for every template line to fit.
NAME = re.compile(r"[a-z][a-z0-9]{1,15}")
RESERVED = frozenset({"tests"})  # every service's tests package
LINE_LENGTH = 100  # ruff's (pyproject.toml): registrations are written as ruff formats them
THREADS = 16  # per server process, as users and products have (tools/stack.py)
FIRST_PORT = 8001
PLACEHOLDER = re.compile(r"\{\{\w+\}\}")


class Refused(Exception):
    """The service cannot be made as asked; nothing was written."""


@dataclass(frozen=True)
class NewService:
    name: str
    port: int

    @property
    def project(self) -> str:
        """Its project package: settings, urls, wsgi."""
        return f"{self.name}_service"

    @property
    def packages(self) -> list[str]:
        return [self.project, self.name]

    def render(self, text: str) -> str:
        """``text`` with the placeholders replaced."""
        text = (
            text.replace("{{name}}", self.name)
            .replace("{{Name}}", self.name.capitalize())
            .replace("{{NAME}}", self.name.upper())
        )
        left = PLACEHOLDER.search(text)
        if left:
            raise Refused(f"the template has a placeholder nothing replaces: {left[0]}")
        return text


# The service's files -------------------------------------------------------------------


def service_files(service: NewService) -> dict[Path, str]:
    """Each file of ``services/<name>/`` and its text, rendered from the template."""
    first_party = {service.name, service.project, "souk_common", "tests"}
    files = {}
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = service.render(str(source.relative_to(TEMPLATE))).removesuffix(".tmpl")
        text = service.render(source.read_text())
        if relative.endswith(".py"):
            text = sort_first_party_imports(text, first_party)
        files[Path("services") / service.name / relative] = text
    return files


def sort_first_party_imports(text: str, first_party: set[str]) -> str:
    """Each run of first-party ``from`` imports in module order, as ruff's isort has it.

    The service's own packages sort before or after ``souk_common`` depending on its name,
    so the templates cannot fix their order.
    """

    def module(line: str) -> str:
        found = re.match(r"from ([\w.]+) import ", line)
        return found[1].lower() if found and found[1].split(".")[0] in first_party else ""

    lines: list[str] = []
    for imports, group in itertools.groupby(text.split("\n"), key=lambda line: bool(module(line))):
        run = list(group)
        lines += sorted(run, key=module) if imports else run
    return "\n".join(lines)


# Python lists: noxfile.py and tools/stack.py --------------------------------------------


def display(prefix: str, opening: str, items: list[str], closing: str) -> str:
    """A tuple or dict display as ruff formats it: on one line if it fits, else one item
    per line with a trailing comma."""
    line = f"{prefix}{opening}{', '.join(items)}{closing}"
    if len(line) <= LINE_LENGTH:
        return line
    return f"{prefix}{opening}\n" + "".join(f"    {item},\n" for item in items) + closing


def find(pattern: str, text: str, where: str) -> re.Match[str]:
    found = re.search(pattern, text, re.MULTILINE | re.DOTALL)
    if found is None:
        raise Refused(f"{where} is not as the generator knows it (no match for {pattern!r})")
    return found


def add_to_services(text: str, service: NewService, where: str) -> str:
    """``SERVICES = (...)`` with the service last."""
    found = find(r"^SERVICES = \((?P<items>[^)]*)\)$", text, where)
    listed = ast.literal_eval(f"({found['items']})")
    services = [listed] if isinstance(listed, str) else list(listed)
    if service.name in services:
        return text
    line = display("SERVICES = ", "(", [json.dumps(s) for s in [*services, service.name]], ")")
    return text[: found.start()] + line + text[found.end() :]


def add_threads(text: str, service: NewService, where: str) -> str:
    """``DEFAULT_THREADS = {...}`` with the service's threads, its keys in order."""
    found = find(r"^DEFAULT_THREADS = \{(?P<items>[^}]*)\}$", text, where)
    threads = ast.literal_eval(f"{{{found['items']}}}")
    if service.name in threads:
        return text
    threads[service.name] = THREADS
    items = [f"{json.dumps(name)}: {threads[name]}" for name in sorted(threads)]
    line = display("DEFAULT_THREADS = ", "{", items, "}")
    return text[: found.start()] + line + text[found.end() :]


def processes_block(text: str, where: str) -> re.Match[str]:
    return find(r"^PROCESSES: dict\[str, Process\] = \{\n(?P<body>.*?)^\}$", text, where)


def process_ports(stack_text: str) -> dict[str, int]:
    """The port of each process of the stack that has one (tools/stack.py's PROCESSES)."""
    body = processes_block(stack_text, "tools/stack.py")["body"]
    starts = list(re.finditer(r'^    "([\w-]+)": ', body, re.MULTILINE))
    ports = {}
    for start, end in zip(starts, [*starts[1:], None], strict=True):
        port = re.search(r"\bport=(\d+)", body[start.start() : end and end.start()])
        if port:
            ports[start[1]] = int(port[1])
    return ports


def add_process(text: str, service: NewService, where: str) -> str:
    """The service's server in ``PROCESSES``, started before the gateway."""
    block = processes_block(text, where)
    body = block["body"]
    if f'\n    "{service.name}": Process(' in f"\n{body}":
        return text
    gateway = find(r'^    "gateway": Process\(', body, f"{where}'s PROCESSES")
    name, port = json.dumps(service.name), service.port
    arguments = f"{name}, lambda stack: stack.server_command({name}), port={port}"
    entry = f"    {name}: Process({arguments}),\n"
    if len(entry) - 1 > LINE_LENGTH:
        entry = f"    {name}: Process(\n        {arguments}\n    ),\n"
    at = block.start("body") + gateway.start()
    return text[:at] + entry + text[at:]


# pyproject.toml: ruff and import-linter -----------------------------------------------


def extend_array(segment: str, key: str, items: list[str], where: str) -> str:
    """``key = [...]`` in a TOML ``segment`` with ``items`` added (those it lacks): one more
    line in an array written one group per line, at the end of one written on one line."""
    found = find(rf"^{key} = \[(?P<body>[^\]]*)\]", segment, where)
    body = found["body"]
    missing = [item for item in items if f'"{item}"' not in body]
    if not missing:
        return segment
    quoted = ", ".join(f'"{item}"' for item in missing)
    if "\n" in body:
        body = f"{body.rstrip(' ')}    {quoted},\n"
    else:
        body = f"{body}, {quoted}" if body.strip() else quoted
    return segment[: found.start("body")] + body + segment[found.end("body") :]


def add_to_pyproject(text: str, service: NewService) -> str:
    """Ruff's ``src``, import-linter's packages and contracts, for the service."""
    where = "pyproject.toml"
    # Where ruff finds first-party modules.
    src = find(r"^src = \[\n(?P<body>.*?)^\]", text, where)
    folder = f'    "services/{service.name}",\n'
    if folder not in src["body"]:
        last = list(re.finditer(r'^    "services/[^"]*",\n', src["body"], re.MULTILINE))
        if not last:
            raise Refused(f"{where}: ruff's src lists no service")
        at = src.start("body") + last[-1].end()
        text = text[:at] + folder + text[at:]

    starts = [
        m.start() for m in re.finditer(r"^\[\[tool\.importlinter\.contracts\]\]$", text, re.M)
    ]
    if not starts:
        raise Refused(f"{where} has no import-linter contracts")
    head = text[: starts[0]]
    segments = [
        text[start:end] for start, end in zip(starts, [*starts[1:], len(text)], strict=True)
    ]

    # import-linter's packages, one line per service: the others' are what its contract forbids.
    roots = find(r"^root_packages = \[\n(?P<body>.*?)^\]", head, where)
    groups = [re.findall(r'"([^"]+)"', line) for line in roots["body"].splitlines()]
    others = [
        module
        for group in groups
        if group and "souk_common" not in group and service.name not in group
        for module in group
    ]
    head = extend_array(head, "root_packages", service.packages, where)

    own_name = f"the {service.name} service never imports another service's code"
    own = (
        f"[[tool.importlinter.contracts]]\n"
        f'name = "{own_name}"\n'
        f'type = "forbidden"\n'
        f"source_modules = [{', '.join(json.dumps(m) for m in service.packages)}]\n"
        f"forbidden_modules = [{', '.join(json.dumps(m) for m in others)}]\n"
    )
    last_boundary = None
    for number, segment in enumerate(segments):
        contract = tomllib.loads(segment)["tool"]["importlinter"]["contracts"][0]
        sources = contract.get("source_modules", [])
        forbidden = contract.get("forbidden_modules", [])
        if contract["name"] == own_name:
            own = ""
        elif contract["type"] == "forbidden" and any(m.endswith("_service") for m in forbidden):
            # Another package's boundary (souk_common's, a service's): this service is out too.
            segment = extend_array(segment, "forbidden_modules", service.packages, where)
        elif "rest_framework" in forbidden and any(m.endswith(".services") for m in sources):
            modules = [f"{service.name}.services", f"{service.name}.selectors"]
            segment = extend_array(segment, "source_modules", modules, where)
        if contract["name"].endswith(" service never imports another service's code"):
            last_boundary = number
        segments[number] = segment
    if own:
        if last_boundary is None:
            raise Refused(f"{where} has no contract keeping one service from another's code")
        before = segments[last_boundary]
        segments[last_boundary] = before + ("" if before.endswith("\n\n") else "\n") + own
        if last_boundary + 1 < len(segments):
            segments[last_boundary] += "\n"
    text = head + "".join(segments)
    check_pyproject(text, service, own_name)
    return text


def check_pyproject(text: str, service: NewService, own_name: str) -> None:
    """Refuse to write a pyproject.toml that does not read back as intended."""
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise Refused(f"pyproject.toml would not parse: {error}") from None
    linter = config["tool"]["importlinter"]
    if not (
        set(service.packages) <= set(linter["root_packages"])
        and f"services/{service.name}" in config["tool"]["ruff"]["src"]
        and any(contract["name"] == own_name for contract in linter["contracts"])
    ):
        raise Refused("pyproject.toml would not read back with the service registered")


# compose.yaml and .env.example ------------------------------------------------------------

COMPOSE_DATABASE = """\
  {{name}}-db:
    <<: *database
    environment:
      POSTGRES_DB: {{name}}
      POSTGRES_USER: {{name}}
      POSTGRES_PASSWORD: ${{{NAME}}_DB_PASSWORD:?set {{NAME}}_DB_PASSWORD in .env}
    volumes: [{{name}}-db:/var/lib/postgresql/data]
"""

COMPOSE_SERVICE = """\
  {{name}}:
    <<: *service
    environment:
      SOUK_SERVICE: {{name}}
      SECRET_KEY: ${{{NAME}}_SECRET_KEY:?set {{NAME}}_SECRET_KEY in .env}
      ALLOWED_HOSTS: {{name}},localhost
      {{NAME}}_DATABASE_URL: postgres://{{name}}:${{{NAME}}_DB_PASSWORD}@{{name}}-db:5432/{{name}}
      JWT_JWKS_URL: http://users:8000/api/auth/jwks.json
      USERS_URL: http://users:8000
    depends_on:
      {{name}}-db: {condition: service_healthy}
      users: {condition: service_healthy}
"""


def compose_entries(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Each entry under ``services:`` and its lines: from its comment to its last line."""
    start = lines.index("services:\n")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1] not in ("", " ", "\n", "#")),
        len(lines),
    )
    keys = [i for i in range(start + 1, end) if re.fullmatch(r"  [\w.-]+:\s*", lines[i])]
    entries, firsts = {}, []
    for key in keys:
        first = key
        while lines[first - 1].startswith("  #"):
            first -= 1
        firsts.append(first)
    for number, key in enumerate(keys):
        last = firsts[number + 1] if number + 1 < len(keys) else end
        while not lines[last - 1].strip():
            last -= 1
        entries[lines[key].strip().rstrip(":")] = (firsts[number], last)
    return entries


def add_to_compose(text: str, service: NewService) -> str:
    """The service's container before the gateway's, its database after the others'."""
    lines = text.splitlines(keepends=True)
    try:
        entries = compose_entries(lines)
    except ValueError:
        raise Refused("compose.yaml has no services") from None
    if "gateway" not in entries:
        raise Refused("compose.yaml has no gateway to put the service before")
    databases = [name for name in entries if name.endswith("-db")]
    if not databases:
        raise Refused("compose.yaml has no service database to put the service's after")
    # From the end of the file up, so that earlier line numbers stay right.
    changes: list[tuple[int, list[str]]] = []
    volumes = find(r"^volumes:\n(?P<body>(?:  [^\n]*\n)*)", text, "compose.yaml")
    volume = f"  {service.name}-db: {{}}\n"
    if volume not in volumes["body"]:
        changes.append((text[: volumes.end("body")].count("\n"), [volume]))
    if service.name not in entries:
        block = service.render(COMPOSE_SERVICE).splitlines(keepends=True)
        changes.append((entries["gateway"][0], [*block, "\n"]))
    if f"{service.name}-db" not in entries:
        block = service.render(COMPOSE_DATABASE).splitlines(keepends=True)
        changes.append((entries[databases[-1]][1], ["\n", *block]))
    for at, added in sorted(changes, reverse=True):
        lines[at:at] = added
    return "".join(lines)


def add_to_env_example(text: str, service: NewService) -> str:
    """The service's secret key and database password, each after the others'."""
    lines = text.splitlines(keepends=True)
    for suffix in ("_SECRET_KEY=", "_DB_PASSWORD="):
        variable = f"{service.name.upper()}{suffix}"
        if any(line.startswith(variable) for line in lines):
            continue
        others = [i for i, line in enumerate(lines) if re.match(rf"[A-Z0-9_]+{suffix}", line)]
        if not others:
            raise Refused(f".env.example lists no *{suffix} to put {variable} after")
        lines.insert(others[-1] + 1, f"{variable}\n")
    return "".join(lines)


# Putting it together ---------------------------------------------------------------------

Registration = Callable[[str, NewService], str]
REGISTRATIONS: dict[str, list[Registration]] = {
    "noxfile.py": [lambda text, s: add_to_services(text, s, "noxfile.py")],
    "tools/stack.py": [
        lambda text, s: add_to_services(text, s, "tools/stack.py"),
        lambda text, s: add_threads(text, s, "tools/stack.py"),
        lambda text, s: add_process(text, s, "tools/stack.py"),
    ],
    "pyproject.toml": [add_to_pyproject],
    "compose.yaml": [add_to_compose],
    ".env.example": [add_to_env_example],
}


def check_name(name: str, repo: Path) -> None:
    if not NAME.fullmatch(name):
        raise Refused(
            f"{name!r}: a service's name is 2 to 16 lowercase letters and digits, "
            "starting with a letter (it names a package, a container and a host)"
        )
    if (repo / "services" / name).exists():
        raise Refused(f"services/{name} exists already")
    packages = {path.parent.name for path in repo.glob("services/*/*/__init__.py")}
    for module in (name, f"{name}_service"):
        if module in RESERVED or module in packages:
            raise Refused(f"{module!r} is taken in this repository")
        if module in sys.stdlib_module_names or importlib.util.find_spec(module) is not None:
            raise Refused(f"{module!r} is a module Python already finds; choose another name")


def plan(
    name: str, port: int | None, repo: Path
) -> tuple[NewService, dict[Path, str], dict[Path, str]]:
    """The service, its files, and the files its registration changes (each path and its
    new text); raises :class:`Refused`."""
    check_name(name, repo)
    ports = process_ports((repo / "tools/stack.py").read_text())
    registered = ports.pop(name, None)  # by a run that did not finish, say
    if port is None:
        port = registered or next(p for p in range(FIRST_PORT, 65536) if p not in ports.values())
    elif registered not in (None, port):
        raise Refused(f"tools/stack.py has {name} on port {registered} already")
    elif port in ports.values():
        raise Refused(f"port {port} belongs to another process of the stack (tools/stack.py)")
    elif not 1024 <= port <= 65535:
        raise Refused(f"port {port}: use one from 1024 to 65535")
    service = NewService(name, port)
    files = {repo / path: text for path, text in service_files(service).items()}
    changed = {}
    for path, registrations in REGISTRATIONS.items():
        original = (repo / path).read_text()
        text = original
        for register in registrations:
            text = register(text, service)
        if text != original:
            changed[repo / path] = text
    return service, files, changed


def make_migrations(service: NewService, repo: Path) -> bool:
    """The app's first migration, made by Django from its models."""
    with tempfile.TemporaryDirectory() as var_dir:
        env = {
            **os.environ,
            "SOUK_ENV": "development",
            "SOUK_VAR_DIR": var_dir,
            "DJANGO_SETTINGS_MODULE": f"{service.project}.settings",
        }
        made = subprocess.run(
            [sys.executable, "manage.py", "makemigrations", service.name],
            cwd=repo / "services" / service.name,
            env=env,
        )
    return made.returncode == 0


def next_steps(service: NewService) -> str:
    name, upper, port = service.name, service.name.upper(), service.port
    return f"""
Next: `nox -s "tests(service='{name}')"` runs its tests; `nox -s up` runs it on port {port}.
Replace the example (model, service, selector, views, tests) with the service's own, and
make its migration again.

Which public paths reach it is yours to decide. To send /api/{name}/ to it:
  services/gateway/gateway_service/settings.py
    GATEWAY_UPSTREAMS: "{name}": env.get_str("{upper}_URL", "http://127.0.0.1:{port}"),
    GATEWAY_ROUTES:    {{"prefix": "/api/{name}/", "upstream": "{name}",
                        "methods": f"{{_READ_ONLY}},POST", "timeout_seconds": 5}},
  compose.yaml, the gateway: {upper}_URL: http://{name}:8000 in its environment, and
    {name}: {{condition: service_healthy}} in its depends_on
  tests/e2e/test_foundation.py: "{name}" among the upstreams the gateway's /health lists
  README.md: its row in the table of services.
To check staff (IsStaff) or call another service, it needs a service client: its identity
in its settings (env.service_identity("{name}")), its scopes in tools/stack.py's
SERVICE_CLIENTS, and in compose.yaml its SERVICE_CLIENT_ID and _SECRET, with the users
service's STARTUP_COMMAND registering it ({upper}_CLIENT_SECRET in .env.example)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", help="the service's name, e.g. cart")
    parser.add_argument(
        "--port",
        type=int,
        help=f"its port under `nox -s up` (default: the first free from {FIRST_PORT})",
    )
    args = parser.parse_args(argv)
    try:
        service, files, registrations = plan(args.name, args.port, REPO)
    except Refused as refused:
        print(f"new-service: {refused}; nothing was written.", file=sys.stderr)
        return 2
    for path, text in {**files, **registrations}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    registered = ", ".join(sorted(str(path.relative_to(REPO)) for path in registrations))
    print(f"Made services/{service.name}/, the {service.name} service (port {service.port}).")
    print(f"Registered it in {registered}." if registered else "It was registered already.")
    if not make_migrations(service, REPO):
        print(
            f"makemigrations failed: make the first migration with `python manage.py "
            f"makemigrations {service.name}` in services/{service.name}.",
            file=sys.stderr,
        )
        return 1
    print(next_steps(service))
    return 0


if __name__ == "__main__":
    sys.exit(main())
