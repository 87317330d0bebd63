"""Each service, and the storefront, as deployed: Django's deployment checklist, run against
production settings."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from souk_common.keys import SigningKey
from stack import PROJECTS

ROOT = Path(__file__).resolve().parents[2]


def production_environment(service: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "SOUK_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": f"{service},localhost",
        f"{service.upper()}_DATABASE_URL": f"postgres://{service}:pw@{service}-db:5432/{service}",
        "JWT_JWKS_URL": "http://users:8000/api/auth/jwks.json",
        "JWT_PRIVATE_KEY": SigningKey.generate().to_pem(),
        "SERVICE_CLIENT_SECRET": secrets.token_urlsafe(32),
        "GATEWAY_PROXY_SECRET": secrets.token_urlsafe(32),
        "BROKER_URL": "amqp://souk:pw@rabbitmq:5672//",
        "EMAIL_URL": "smtp://mail:25",
    }


def deploy_warnings(service: str, **overrides: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT / "services" / service,
        env={**production_environment(service), **overrides},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"\((security\.[WE]\d+)\)", result.stdout + result.stderr))


@pytest.mark.parametrize("service", PROJECTS)
def test_the_deployment_checklist_leaves_only_hsts_to_the_operator(service):
    # Secure admin cookies, a strong secret key, no DEBUG: all met by default.
    # HSTS is a promise about every client's future, so the operator opts in.
    assert deploy_warnings(service) == {"security.W004"}

    opted_in = deploy_warnings(service, SECURE_HSTS_SECONDS="31536000")
    assert "security.W004" not in opted_in
    assert opted_in <= {"security.W005", "security.W021"}  # subdomains and preload: their call
