"""Fail when docs/security.md names a test that does not exist (run by `nox -s lint`)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"`([\w/.-]+\.py)::(test_\w+)`")


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def main() -> int:
    text = (ROOT / "docs" / "security.md").read_text()
    references = REFERENCE.findall(text)
    missing = []
    for file, name in references:
        path = ROOT / file
        if not path.is_file() or name not in defined_tests(path):
            missing.append(f"{file}::{name}")
    sections = re.split(r"^## (API\d+) ", text, flags=re.MULTILINE)[1:]
    names = sections[0::2]
    if names != [f"API{n}" for n in range(1, 11)]:
        missing.append(f"a section for each of API1..API10 (found {names})")
    missing += [
        f"a test for {name}"
        for name, body in zip(names, sections[1::2], strict=True)
        if not REFERENCE.search(body)
    ]
    if missing:
        print("docs/security.md names what does not exist:", *missing, sep="\n  ")
        return 1
    print(f"docs/security.md: {len(references)} tests named, all exist.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
