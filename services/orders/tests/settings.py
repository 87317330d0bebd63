"""Test settings: the service's own, on PostgreSQL when it answers (see souk_common.testing)."""

import os

os.environ.setdefault("SOUK_ENV", "development")

from orders_service.settings import *  # noqa: F403
from souk_common.testing import database_for_tests, souk_test_settings

DATABASES = {"default": database_for_tests("orders")}
# The events this service publishes stay in its outbox: no relay runs in these tests; the
# events it consumes are handed to its inbox as its consumer would (tests/test_lifecycle.py).
SOUK = souk_test_settings(EVENTS_SOURCE="orders", EVENTS_HANDLERS="orders.handlers.handlers")
# The upstreams are faked by real local servers (tests/conftest.py), which hang for 1 s.
ORDERS_UPSTREAMS = {**ORDERS_UPSTREAMS, "READ_TIMEOUT": 0.5}  # noqa: F405
