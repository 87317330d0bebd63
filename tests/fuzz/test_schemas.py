"""Schemathesis against every service's OpenAPI schema, as a user and as staff.

For each service (and the gateway's merged schema), requests generated from the
schema -- valid ones and deliberately invalid ones -- must never get a 5xx, and
every documented answer must match the schema. Tokens are real RS256 tokens
from the stack's signing key, good for the whole run.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from souk_common.keys import SigningKey
from souk_common.testing import TokenFactory
from stack import SERVICES

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


@pytest.fixture(scope="module")
def tokens(system) -> dict[str, str]:
    ((user_id, _),) = system.stack.create_accounts(1, f"fuzz{uuid.uuid4().hex[:6]}-")
    staff_id = int(
        system.stack.manage(
            "users", "shell", "--no-imports", "-c",
            "from accounts.models import User; print(User.objects.get(username='admin').pk)",
            capture=True,
        ).strip().splitlines()[-1]
    )  # fmt: skip
    factory = TokenFactory(SigningKey.from_pem(system.stack.signing_key_path.read_text()))
    return {
        "user": factory.access(user_id=user_id, username="fuzzer", lifetime=3600),
        "staff": factory.access(user_id=staff_id, username="admin", is_staff=True, lifetime=3600),
    }


@pytest.mark.parametrize("role", ["user", "staff"])
@pytest.mark.parametrize("service", SERVICES)
def test_no_server_errors_and_answers_match_the_schema(system, tokens, service, role, tmp_path):
    document = system.http.get(f"{system.url(service)}/api/schema/?format=json", timeout=10)
    assert document.status_code == 200
    if not document.json()["paths"]:
        # A service with no API of its own (notifications: admin and health only) has
        # nothing to generate requests from; what it answers under /api/ is the envelope.
        answer = system.http.get(
            f"{system.url(service)}/api/{uuid.uuid4().hex}/",
            headers={"Authorization": f"Bearer {tokens[role]}"},
            timeout=10,
        )
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"
        return
    result = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run",
            f"{system.url(service)}/api/schema/",
            "--checks", CHECKS,
            "--header", f"Authorization: Bearer {tokens[role]}",
            "--max-examples", "25",
            "--workers", "1",  # several workers trip a CPython 3.11 bug in schemathesis itself
            "--seed", "20261121",
            "--request-timeout", "20",
            "--generation-database", "none",
            "--no-color",
            "--warnings", "off",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
