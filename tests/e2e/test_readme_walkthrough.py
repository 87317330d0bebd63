"""README.md's walkthrough, run as written: the block a new user pastes after `nox -s up`,
taken from the README itself and run with bash against the stack's gateway, so the
README cannot drift from the system."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from harness import orders_of

README = Path(__file__).resolve().parents[2] / "README.md"
MARK = "<!-- walkthrough:"


def walkthrough() -> str:
    """The shell block right under the walkthrough's mark in README.md."""
    text = README.read_text()
    assert text.count(MARK) == 1, f"README.md should mark one block with {MARK!r}"
    block = re.match(r"[^\n]*\n```sh\n(.*?)^```", text.split(MARK)[1], re.DOTALL | re.MULTILINE)
    assert block, f"no ```sh block right under {MARK!r} in README.md"
    return block.group(1)


def test_the_readme_walkthrough_checks_out_an_order_and_watches_it_ship(system):
    script = walkthrough()
    # The gateway comes from SOUK_GATEWAY; without it the block would go to port 8000.
    assert "${SOUK_GATEWAY:-" in script

    ran = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        env={**os.environ, "SOUK_GATEWAY": system.gateway},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert ran.returncode == 0, ran.stdout + ran.stderr
    watched = re.findall(r"^order (\S+): (\w+)$", ran.stdout, re.MULTILINE)
    assert watched, ran.stdout
    assert {order_id for order_id, _ in watched} == {watched[0][0]}
    assert watched[-1][1] == "shipped", ran.stdout
    (order,) = orders_of(system, [watched[0][0]])
    assert order["status"] == "shipped"
    assert order["payment"]["status"] == "succeeded"
    assert [(line["name"], line["quantity"]) for line in order["items"]] == [
        ("Moroccan mint tea, 100 g", 2)
    ]
