"""Test settings: the service's own, on PostgreSQL when it answers (see souk_common.testing)."""

import os

os.environ.setdefault("SOUK_ENV", "development")

from notifications_service.settings import *  # noqa: F403
from souk_common.testing import database_for_tests, souk_test_settings

DATABASES = {"default": database_for_tests("notifications")}
# The users service is faked per test (the users_service fixture); no consumer runs
# unless a test starts one on a broker of its own.
SOUK = souk_test_settings(
    EVENTS_SOURCE="notifications", EVENTS_HANDLERS="notifications.handlers.handlers"
)
