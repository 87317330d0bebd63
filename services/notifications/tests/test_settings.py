"""Where mail goes, as the service's settings say from the environment: files under
var/mail/ in development, the server at EMAIL_URL in production, which needs one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import order_event

SERVICE = Path(__file__).resolve().parent.parent


def email_settings(**environment):
    """The e-mail settings notifications_service.settings makes of ``environment``."""
    script = (
        "import json; from notifications_service import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in dir(s) if k.startswith('EMAIL_')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=SERVICE,
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.django_db
def test_in_development_mail_is_written_as_files_under_var_mail(
    tmp_path, settings, inbox, users_service
):
    development = email_settings(SOUK_ENV="development", SOUK_VAR_DIR=str(tmp_path))
    settings.EMAIL_BACKEND = development["EMAIL_BACKEND"]
    settings.EMAIL_FILE_PATH = development["EMAIL_FILE_PATH"]

    event = order_event(user_id=3)
    inbox.receive(event)

    assert development["EMAIL_FILE_PATH"] == str(tmp_path / "mail")
    [written] = (tmp_path / "mail").iterdir()
    text = written.read_text()
    assert "To: user3@example.com" in text
    assert f"Message-ID: <{event.id}@souk>" in text
    assert "Total: 1058.00" in text


def test_production_sends_to_the_server_at_email_url_and_refuses_to_start_without_one():
    production = {
        "SOUK_ENV": "production",
        "SECRET_KEY": "a-production-secret-key-for-this-test-only-0123456789",
        "ALLOWED_HOSTS": "notifications",
        "NOTIFICATIONS_DATABASE_URL": "postgres://notifications:pw@db:5432/notifications",
        "JWT_JWKS_URL": "http://users:8000/api/auth/jwks.json",
        "SERVICE_CLIENT_SECRET": "a-service-client-secret",
        "BROKER_URL": "amqp://souk:pw@rabbitmq:5672//",
    }

    configured = email_settings(**production, EMAIL_URL="smtp+tls://shop:pw@mail.example:587")
    refused = subprocess.run(
        [sys.executable, "-c", "import notifications_service.settings"],
        cwd=SERVICE,
        env={"PATH": os.environ["PATH"], **production},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert configured["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (configured["EMAIL_HOST"], configured["EMAIL_PORT"]) == ("mail.example", 587)
    assert configured["EMAIL_USE_TLS"] is True
    assert refused.returncode != 0
    assert "EMAIL_URL must be set when SOUK_ENV=production" in refused.stderr
