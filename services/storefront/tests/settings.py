"""Test settings: the storefront's own (it has no database), calling a fake gateway that
each test starts (conftest.api)."""

import os

os.environ.setdefault("SOUK_ENV", "development")

from storefront_service.settings import *  # noqa: F403
