"""Print what pyproject.toml files need installed, one requirement a line: their build
requirements and [project] dependencies, less the projects themselves.

The image installs these from the pyproject.toml files alone, before any source is
copied, so a change to the source reuses that layer (see the Dockerfile).

    python dependencies.py libs/common/pyproject.toml services/users/pyproject.toml
"""

from __future__ import annotations

import re
import sys
import tomllib


def canonical(requirement: str) -> str:
    """The distribution a requirement names, normalised (PEP 503): ``Django>=5`` -> ``django``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match[1]).lower()


def requirements(paths: list[str]) -> list[str]:
    """Build requirements and dependencies of the projects at ``paths``, without the projects."""
    projects = []
    for path in paths:
        with open(path, "rb") as file:
            projects.append(tomllib.load(file))
    own = {canonical(project["project"]["name"]) for project in projects}
    found: list[str] = []
    for project in projects:
        for requirement in [
            *project.get("build-system", {}).get("requires", []),
            *project["project"].get("dependencies", []),
        ]:
            if canonical(requirement) not in own and requirement not in found:
                found.append(requirement)
    return found


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1:])))
