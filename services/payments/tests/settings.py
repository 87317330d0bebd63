"""Test settings: the service's own, on PostgreSQL when it answers (see souk_common.testing)."""

import os

os.environ.setdefault("SOUK_ENV", "development")

from payments_service.settings import *  # noqa: F403
from souk_common.testing import database_for_tests, souk_test_settings

DATABASES = {"default": database_for_tests("payments")}
# The users service is faked per test (the users_service fixture); the events published
# stay in the outbox, and events are handed to the inbox by the tests: no relay or
# consumer runs.
SOUK = souk_test_settings(EVENTS_SOURCE="payments", EVENTS_HANDLERS="payments.handlers.handlers")
