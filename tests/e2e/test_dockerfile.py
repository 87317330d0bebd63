"""The Dockerfile installs dependencies from the pyproject.toml files before any source,
so a change to the source reuses the dependency layer; read without a Docker engine."""

from __future__ import annotations

import re
from importlib.metadata import requires

import pytest

from containers import REPO, compose, dependencies_script, dockerfile
from stack import SERVICES

canonical = dependencies_script().canonical
requirements = dependencies_script().requirements

SOURCES = ("libs/common", "services/${SERVICE}")


def copied(arguments: str) -> list[str]:
    """The sources of a COPY (without its options)."""
    return [word for word in arguments.split() if not word.startswith("--")][:-1]


def test_dependencies_are_installed_from_pyproject_files_before_the_source_is_copied():
    steps = dockerfile()
    source_copy = next(
        i for i, (keyword, arguments) in enumerate(steps)
        if keyword == "COPY" and set(copied(arguments)) & set(SOURCES)
    )  # fmt: skip
    dependency_install = next(
        (i for i, (keyword, arguments) in enumerate(steps)
         if keyword == "RUN" and "pip install -r" in arguments),
        None,
    )  # fmt: skip
    assert dependency_install is not None, "no RUN installs the dependencies alone"
    assert dependency_install < source_copy

    before = [copied(args) for keyword, args in steps[:dependency_install] if keyword == "COPY"]
    sources = [path for paths in before for path in paths]
    assert sorted(sources) == sorted(
        ["docker/dependencies.py", *(f"{source}/pyproject.toml" for source in SOURCES)]
    )
    package_install = next(
        arguments for keyword, arguments in steps[source_copy:]
        if keyword == "RUN" and "pip install" in arguments
    )  # fmt: skip
    assert "--no-deps" in package_install
    assert all(source.replace("${SERVICE}", "") in package_install for source in SOURCES)


def test_one_recipe_builds_every_service():
    builds = [spec["build"] for spec in compose()["services"].values() if "build" in spec]
    assert {build["args"]["SERVICE"] for build in builds} == set(SERVICES)
    assert {build.get("dockerfile", "Dockerfile") for build in builds} == {"Dockerfile"}


@pytest.mark.parametrize("service", SERVICES)
def test_the_dependency_layer_holds_everything_the_packages_require(service):
    layer = requirements(
        [str(REPO / "libs/common/pyproject.toml"), str(REPO / f"services/{service}/pyproject.toml")]
    )
    needed = {
        canonical(requirement)
        for package in ("souk-common", f"souk-{service}")
        for requirement in requires(package) or []
        if not re.search(r"extra\s*==", requirement)
    } - {"souk-common"}
    assert needed <= {canonical(requirement) for requirement in layer}
    assert "souk-common" not in {canonical(requirement) for requirement in layer}
    assert "setuptools" in {canonical(requirement) for requirement in layer}  # the build backend
