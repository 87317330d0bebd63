"""Test settings: the service's own, on PostgreSQL when it answers (see souk_common.testing)."""

import os

from souk_common.testing import database_for_tests, signing_key_for_tests

os.environ.setdefault("SOUK_ENV", "development")
# Sign with the key every test process trusts, instead of a development key under var/.
os.environ["JWT_PRIVATE_KEY"] = signing_key_for_tests().to_pem()

from users_service.settings import *  # noqa: F403

DATABASES = {"default": database_for_tests("users")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Throttle counts live in memory here and are cleared before each test (tests/conftest.py);
# the servers share them through the database or Redis (env.cache()).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
