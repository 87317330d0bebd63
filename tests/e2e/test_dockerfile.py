"""One image for every service, built reproducibly: its base images pinned by digest,
every dependency the version uv.lock pins (checked against the lock's hash), installed
before any source is copied, so a change to the source reuses that layer; and
compose.yaml runs every service's containers from that one image. Read without a
Docker engine."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from containers import IMAGE_ROOT, REPO, compose, dockerfile, image_environment, image_workdir
from stack import PROJECTS as STACK_PROJECTS

SOURCES = ("libs", "services")  # the repository's folders of packages
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
LOCK = tomllib.loads((REPO / "uv.lock").read_text())
LOCKED = {package["name"]: package for package in LOCK["package"]}
ROOT = tomllib.loads((REPO / "pyproject.toml").read_text())
PROJECTS = {
    path.parent.name: tomllib.loads(path.read_text())["project"]
    for path in [REPO / "libs/common/pyproject.toml", *REPO.glob("services/*/pyproject.toml")]
}


def copied(arguments: str) -> list[str]:
    """The sources of a COPY (without its options)."""
    return [word for word in arguments.split() if not word.startswith("--")][:-1]


def test_every_image_it_starts_from_is_pinned_by_digest():
    sources = [
        next(word for word in arguments.split() if not word.startswith("--"))
        for keyword, arguments in dockerfile()
        if keyword == "FROM"
    ]

    assert [source for source in sources if not DIGEST.search(source)] == []
    assert sources[-1].startswith("python:3.11-slim@sha256:")  # the image's own base


def test_locked_dependencies_are_installed_before_the_source_is_copied():
    steps = dockerfile()
    source_copy = next(
        i for i, (keyword, arguments) in enumerate(steps)
        if keyword == "COPY" and any(path.startswith(SOURCES) for path in copied(arguments))
    )  # fmt: skip
    syncs = [
        i for i, (keyword, arguments) in enumerate(steps)
        if keyword == "RUN" and "uv sync" in arguments
    ]  # fmt: skip
    dependencies, packages = syncs

    # From the lock and the root pyproject.toml alone, so only a change to them reinstalls.
    assert dependencies < source_copy < packages
    before = [copied(arguments) for keyword, arguments in steps[:dependencies] if keyword == "COPY"]
    assert sorted(path for paths in before for path in paths) == ["pyproject.toml", "uv.lock"]
    assert "--frozen" in steps[dependencies][1]
    assert "--no-install-workspace" in steps[dependencies][1]  # none of ours: they are the source
    # Then the packages: the lock must still be what their pyproject.toml files resolve to,
    # and they are built with the backend the lock pins (the "build" group), downloading nothing.
    assert "--locked" in steps[packages][1]
    assert "--no-build-isolation" in steps[packages][1]
    for step in syncs:
        assert "--all-packages" in steps[step][1]
        assert "--group build" in steps[step][1]
    assert "build" in ROOT["dependency-groups"]
    # Nothing installed past the lock.
    assert [arguments for keyword, arguments in steps if "pip install" in arguments] == []


def test_the_image_holds_the_repository_as_it_is_and_runs_as_a_user_of_its_own():
    steps = dockerfile()
    copies = {
        tuple(copied(arguments)): arguments.split()[-1]
        for keyword, arguments in steps
        if keyword == "COPY" and "--from" not in arguments
    }
    sources = {source: target for paths, target in copies.items() for source in paths}

    assert sources["libs/common"] == f"{IMAGE_ROOT}/libs/common"
    assert sources["services"] == f"{IMAGE_ROOT}/services"
    assert image_workdir() == REPO / "services"
    assert image_environment()["UV_PROJECT_ENVIRONMENT"].startswith(f"{IMAGE_ROOT}/")
    users = [(i, arguments) for i, (keyword, arguments) in enumerate(steps) if keyword == "USER"]
    runs = [i for i, (keyword, _) in enumerate(steps) if keyword == "RUN"]
    made = [words.split() for keyword, words in steps if keyword == "RUN" and "useradd" in words]

    assert [user for _, user in users] == ["souk"]
    assert users[0][0] > max(runs)  # every process of a container runs as souk, never root
    assert [words[-1] for words in made] == ["souk"]


def test_static_files_are_collected_for_every_service_at_build_time():
    steps = dockerfile()
    source_copy = max(
        i for i, (keyword, arguments) in enumerate(steps)
        if keyword == "COPY" and "services" in copied(arguments)
    )  # fmt: skip
    workdir = None
    collected = None
    for keyword, arguments in steps[source_copy:]:
        if keyword == "WORKDIR":
            workdir = arguments
        if keyword == "RUN" and "collectstatic" in arguments:
            collected = arguments
            break

    assert collected is not None, "no RUN collects the static files after the source is copied"
    # Every folder of the image's services folder, so a new service is collected too.
    assert workdir == f"{IMAGE_ROOT}/services"
    assert re.search(r'for (\w+) in \*/; do .*cd "\$\{\1\}"', collected)
    assert image_environment()["STATIC_ROOT"].startswith(f"{IMAGE_ROOT}/")


def test_the_entry_point_runs_the_service_its_container_names():
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command = ["sh", str(REPO / "docker" / "entrypoint.sh"), "pwd"]

    named = subprocess.run(
        command, cwd=image_workdir(), env={**env, "SOUK_SERVICE": "orders"},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    unnamed = subprocess.run(
        command, cwd=image_workdir(), env=env, capture_output=True, text=True, timeout=30
    )

    assert named.returncode == 0, named.stderr
    assert Path(named.stdout.strip()) == REPO / "services" / "orders"
    assert unnamed.returncode != 0
    assert "set SOUK_SERVICE" in unnamed.stderr


def test_compose_runs_every_service_from_the_one_image():
    containers = {name: spec for name, spec in compose()["services"].items() if "build" in spec}

    assert {spec["image"] for spec in containers.values()} == {"souk"}
    assert {str(spec["build"]) for spec in containers.values()} == {
        str({"context": ".", "dockerfile": "Dockerfile"})
    }
    served = {spec["environment"]["SOUK_SERVICE"] for spec in containers.values()}
    assert served == set(STACK_PROJECTS)
    # No build argument left for the image to vary by: the service is chosen at run time.
    assert [arguments for keyword, arguments in dockerfile() if keyword == "ARG"] == []


def test_the_lock_has_every_package_and_each_file_the_image_installs_has_a_hash():
    members = {canonicalize_name(project["name"]) for project in PROJECTS.values()}
    assert set(LOCK["manifest"]["members"]) == members
    assert set(PROJECTS) == {"common", *STACK_PROJECTS}

    # What the image's `uv sync --all-packages --group build` installs: the packages'
    # dependencies (with the extras they ask for), and the build group's, all the way down.
    needed: set[str] = set()
    pending = [{"name": name} for name in members]
    pending += LOCK["manifest"]["dependency-groups"]["build"]
    while pending:
        dependency = pending.pop()
        package = LOCKED[dependency["name"]]
        for extra in dependency.get("extra", []):
            pending += package["optional-dependencies"][extra]
        if dependency["name"] not in needed:
            needed.add(dependency["name"])
            pending += package.get("dependencies", [])

    files = {
        name: [file for file in [package.get("sdist"), *package.get("wheels", [])] if file]
        for name, package in LOCKED.items()
        if name in needed - members
    }
    assert {"django", "granian", "psycopg-binary", "setuptools", "uvicorn"} <= set(files)
    assert [name for name, found in files.items() if not found] == []
    unhashed = [
        (name, file.get("url")) for name, found in files.items() for file in found
        if not str(file.get("hash", "")).startswith("sha256:")
    ]  # fmt: skip
    assert unhashed == []


def locked_version(name: str) -> str:
    return str(LOCKED[canonicalize_name(name)]["version"])


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_the_lock_meets_every_range_a_package_declares(project):
    requirements = [Requirement(text) for text in PROJECTS[project].get("dependencies", [])]
    for extra in PROJECTS[project].get("optional-dependencies", {}).values():
        requirements += [Requirement(text) for text in extra]

    unmet = [
        (str(requirement), locked_version(requirement.name))
        for requirement in requirements
        if not requirement.specifier.contains(locked_version(requirement.name), prereleases=True)
    ]

    assert unmet == []


def test_the_lock_meets_every_range_of_the_tools():
    groups: dict[str, Any] = ROOT["dependency-groups"]
    assert {"lint", "typecheck", "system", "load", "bench", "compose", "build"} <= set(groups)
    requirements = [Requirement(text) for group in groups.values() for text in group]

    unmet = [
        (str(requirement), locked_version(requirement.name))
        for requirement in requirements
        if not requirement.specifier.contains(locked_version(requirement.name))
    ]

    assert unmet == []


def test_these_checks_run_on_the_versions_the_image_installs():
    # nox fills the virtualenv the system tests run in from uv.lock too: what passes
    # here is what ships.
    installed = {canonicalize_name(dist.metadata["Name"]): dist.version for dist in distributions()}
    shared = {name: version for name, version in installed.items() if name in LOCKED}

    differ = {
        name: (version, LOCKED[name]["version"])
        for name, version in shared.items()
        if name not in set(LOCK["manifest"]["members"]) and version != LOCKED[name]["version"]
    }

    assert differ == {}
    assert {"django", "djangorestframework", "granian", "ruff", "pytest"} <= set(shared)
