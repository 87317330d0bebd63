"""Settings of the products service, read from the environment (see souk_common.settings)."""

from pathlib import Path

from souk_common import settings as common
from souk_common.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
env = common.ServiceEnv("products", base_dir=BASE_DIR)

SECRET_KEY = env.secret_key()
DEBUG = env.debug()
ALLOWED_HOSTS = env.allowed_hosts()
# HTTPS terminates in front of the gateway (see docs/security.md).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.secure_cookies()
SECURE_HSTS_SECONDS = env.hsts_seconds()
SILENCED_SYSTEM_CHECKS = common.SILENCED_SYSTEM_CHECKS

INSTALLED_APPS = [
    *common.DJANGO_APPS,
    *common.THIRD_PARTY_APPS,
    "souk_common",
    "django_filters",
    "catalogue",
    "inventory",
]
MIDDLEWARE = common.MIDDLEWARE
ROOT_URLCONF = "products_service.urls"
WSGI_APPLICATION = "products_service.wsgi.application"
TEMPLATES = common.TEMPLATES

DATABASES = {"default": env.database()}
CACHES = env.cache()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = common.AUTH_PASSWORD_VALIDATORS

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
APPEND_SLASH = False

STATIC_URL = "static/"
STATIC_ROOT = env.get_str("STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = not env.is_production

REST_FRAMEWORK = common.rest_framework_settings(
    authentication_classes=("souk_common.auth.JWTAuthentication",),
)
# Tokens are verified here, statelessly, with the users service's published keys; a staff
# member's privileges are confirmed with the users service, as the service client "products".
SOUK = {**env.jwt_verification(), **env.service_identity("products")}
SPECTACULAR_SETTINGS = common.spectacular_settings(
    title="Souk products",
    description="Catalogue and stock.",
)

LOGGING = logging_config(
    service="products",
    fmt=env.get_str("LOG_FORMAT", "keyvalue"),
    level=env.get_str("LOG_LEVEL", "INFO"),
)
