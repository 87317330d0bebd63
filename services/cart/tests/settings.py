"""Test settings: the service's own, on PostgreSQL when it answers (see souk_common.testing)."""

import os

os.environ.setdefault("SOUK_ENV", "development")

from cart_service.settings import *  # noqa: F403
from souk_common.testing import database_for_tests, souk_test_settings

DATABASES = {"default": database_for_tests("cart")}
SOUK = souk_test_settings()
