"""Test settings: the service's own, on PostgreSQL when it answers (see souk_common.testing)."""

import os

os.environ.setdefault("SOUK_ENV", "development")

from orders_service.settings import *  # noqa: F403
from souk_common.testing import database_for_tests, souk_test_settings

DATABASES = {"default": database_for_tests("orders")}
SOUK = souk_test_settings()
# The upstreams are faked at the HTTP boundary (``responses``) under these names.
USERS_URL = "http://users.test"
PRODUCTS_URL = "http://products.test"
ORDERS_UPSTREAMS = {**ORDERS_UPSTREAMS, "READ_TIMEOUT": 0.5}  # noqa: F405
