"""`nox -s new-service` (tools/new_service.py) on a copy of this repository: the service it
makes passes the linter, the import contracts, its own tests and the container checks as
made; the same name or a port in use is refused, with nothing written."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stack import REPO

# Sorts after souk_common, so its first-party imports are reordered (sort_first_party_imports).
NAME = "parcels"
BIN = Path(sys.executable).parent
REGISTRATIONS = ("noxfile.py", "tools/stack.py", "pyproject.toml", "compose.yaml", ".env.example")


def copy_of_the_work_tree(target: Path) -> Path:
    """Every file git tracks or would add, as it is in the work tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout  # fmt: skip
    for name in filter(None, listed.decode().split("\0")):
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


def run(*command: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def new_service(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "tools/new_service.py", *args, cwd=repo)


def fingerprint(repo: Path) -> dict[str, str]:
    """What the registered files hold, and which files the services' folders have."""
    texts = {name: hashlib.sha256((repo / name).read_bytes()).hexdigest() for name in REGISTRATIONS}
    return {**texts, "services": " ".join(sorted(map(str, (repo / "services").rglob("*"))))}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository with the new service made in it (on the first free port)."""
    repo = copy_of_the_work_tree(tmp_path_factory.mktemp("repo"))
    made = new_service(repo, NAME)
    assert made.returncode == 0, made.stdout + made.stderr
    assert f"Made services/{NAME}/" in made.stdout
    assert '"upstream": "parcels"' in made.stdout  # the gateway's route: the author's to add
    return repo


def test_the_service_passes_lint_and_the_import_contracts_as_made(repo):
    python_files = [f"services/{NAME}", "noxfile.py", "tools/stack.py"]

    checked = run(BIN / "ruff", "check", *python_files, cwd=repo)
    formatted = run(BIN / "ruff", "format", "--check", *python_files, cwd=repo)
    contracts = run(
        BIN / "lint-imports", "--no-cache", cwd=repo, PYTHONPATH=str(repo / "services" / NAME)
    )

    assert checked.returncode == 0, checked.stdout
    assert formatted.returncode == 0, formatted.stdout
    assert contracts.returncode == 0, contracts.stdout
    assert f"the {NAME} service never imports another service's code KEPT" in contracts.stdout


def test_the_service_passes_its_own_tests_with_its_migration(repo):
    folder = repo / "services" / NAME
    migrations = sorted(path.name for path in (folder / NAME / "migrations").glob("0*.py"))

    missing = run(
        sys.executable, "manage.py", "makemigrations", "--check", "--dry-run",
        cwd=folder, SOUK_ENV="development", SOUK_VAR_DIR=str(repo / "var"),
    )  # fmt: skip
    tests = run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", cwd=folder)

    assert migrations == ["0001_initial.py"]
    assert missing.returncode == 0, missing.stdout + missing.stderr
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout
    assert "test_examples.py" in tests.stdout
    assert "test_skeleton.py" in tests.stdout


def test_the_stack_and_the_containers_have_it(repo):
    stack = run(
        sys.executable, "-c",
        "import json, stack; print(json.dumps([stack.SERVICES, stack.DEFAULT_PORTS]))",
        cwd=repo / "tools",
    )  # fmt: skip
    assert stack.returncode == 0, stack.stderr
    services, ports = json.loads(stack.stdout)
    # compose.yaml's health check answered on production settings, and Django's deployment
    # checklist: the system tests that cover every service, run on the copy.
    containers = run(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "tests/e2e/test_compose.py", "tests/e2e/test_production_settings.py",
        "-k", f"{NAME} or every_variable",
        cwd=repo,
    )  # fmt: skip

    assert NAME in services
    assert ports[NAME] not in [port for name, port in ports.items() if name != NAME]
    assert containers.returncode == 0, containers.stdout[-4000:]
    assert "3 passed" in containers.stdout


def test_a_name_or_port_taken_is_refused_and_nothing_is_written(repo):
    before = fingerprint(repo)

    again = new_service(repo, NAME)
    same_port = new_service(repo, "lockers", "--port", "8001")
    module = new_service(repo, "json")

    assert (again.returncode, same_port.returncode, module.returncode) == (2, 2, 2)
    assert f"services/{NAME} exists already" in again.stderr
    assert "port 8001 belongs to another process" in same_port.stderr
    assert "'json' is a module Python already finds" in module.stderr
    assert fingerprint(repo) == before
