"""Settings of a minimal Django project that exercises souk_common on its own."""

import os
from pathlib import Path

from souk_common import settings as common
from souk_common.logging import logging_config
from souk_common.testing import database_for_tests, souk_test_settings

os.environ.setdefault("SOUK_ENV", "development")

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "souk-common-tests"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
INSTALLED_APPS = [
    *common.DJANGO_APPS,
    *common.THIRD_PARTY_APPS,
    "souk_common",
    "souk_common.events",
    "tests.eventsapp",
]
MIDDLEWARE = list(common.MIDDLEWARE)
SERVICE_NAME = "common-tests"
ROOT_URLCONF = "tests.urls"
TEMPLATES = common.TEMPLATES
DATABASES = {"default": database_for_tests("common")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
APPEND_SLASH = False
STATIC_URL = "static/"
REST_FRAMEWORK = common.rest_framework_settings(
    authentication_classes=("souk_common.auth.JWTAuthentication",)
)
SOUK = souk_test_settings(EVENTS_SOURCE="shop")
SPECTACULAR_SETTINGS = common.spectacular_settings(title="souk_common tests", description="")
LOGGING = logging_config(service="common-tests")
