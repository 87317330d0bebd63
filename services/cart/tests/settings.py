"""Test settings: the service's own, on PostgreSQL when it answers (see souk_common.testing)."""

import os

os.environ.setdefault("SOUK_ENV", "development")

from cart_service.settings import *  # noqa: F403
from souk_common.testing import database_for_tests, souk_test_settings

DATABASES = {"default": database_for_tests("cart")}
SOUK = souk_test_settings()
# Carts in the database unless a test says Redis (tests/conftest.py), whatever the
# environment says.
CART_REDIS_URL = ""
# The products catalogue is faked by a real local server (tests/conftest.py), which hangs
# for 1 s when a test says so.
CART_UPSTREAMS = {**CART_UPSTREAMS, "READ_TIMEOUT": 0.5}  # noqa: F405
