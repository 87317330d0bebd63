"""Test settings: the service's own, on PostgreSQL when it answers (see souk_common.testing)."""

import os

os.environ.setdefault("SOUK_ENV", "development")

from shipping_service.settings import *  # noqa: F403
from souk_common.testing import UNREACHABLE_URL, database_for_tests, souk_test_settings

DATABASES = {"default": database_for_tests("shipping")}
# Products is faked per test (the products fixture); until then a call to it fails at once.
PRODUCTS_URL = UNREACHABLE_URL
SOUK = souk_test_settings(EVENTS_SOURCE="shipping", EVENTS_HANDLERS="shipping.handlers.handlers")
# A faked products service that hangs does so for 1 s: past this read timeout.
SHIPPING_UPSTREAMS = {**SHIPPING_UPSTREAMS, "READ_TIMEOUT": 0.5}  # noqa: F405
