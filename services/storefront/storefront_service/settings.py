"""Settings of the storefront, read from the environment (souk_common.settings).

The storefront is a web client of Souk, not one of its services: it keeps nothing of its
own (no database: a shopper's session lives in a signed cookie), and everything it shows
or changes goes through the gateway's public API, as any client's would.
"""

from pathlib import Path
from typing import Any

from souk_common import settings as common
from souk_common.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
env = common.ServiceEnv("storefront", base_dir=BASE_DIR)

SECRET_KEY = env.secret_key()
DEBUG = env.debug()
ALLOWED_HOSTS = env.allowed_hosts()

INSTALLED_APPS = [
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "storefront",
]
MIDDLEWARE = [
    "souk_common.middleware.RequestIdMiddleware",
    # Whose browser this is, for the gateway's rate limits (settings STOREFRONT below).
    "storefront.middleware.ShopperAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "storefront.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "souk_common.compression.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # The API's refusals that every page answers alike: the gateway down or busy, a
    # session the users service ended.
    "storefront.middleware.GatewayErrorMiddleware",
]
ROOT_URLCONF = "storefront_service.urls"
WSGI_APPLICATION = "storefront_service.wsgi.application"
TEMPLATES = [
    {
        **common.TEMPLATES[0],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
                "storefront.context_processors.shopper",
            ],
        },
    },
]
# No database: the session is the cookie.
DATABASES: dict[str, dict[str, str]] = {}

# A shopper's session (who is signed in, with which tokens; the guest cart's id) is a
# cookie signed with SECRET_KEY: HttpOnly, so no script of any page reads the tokens;
# SameSite=Lax; Secure in production (SECURE_COOKIES). It lasts two weeks, so a guest's
# cart is there on the next visit.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_NAME = "souk_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600
CSRF_COOKIE_NAME = "souk_csrftoken"
# Pages put the token in their forms (and htmx sends it from there), never read the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.secure_cookies()
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "storefront.views.csrf_failure"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
SECURE_HSTS_SECONDS = env.hsts_seconds()
SILENCED_SYSTEM_CHECKS = common.SILENCED_SYSTEM_CHECKS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
APPEND_SLASH = True
STATIC_URL = "static/"
STATIC_ROOT = env.get_str("STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = not env.is_production
LOGGING = logging_config(
    service=env.service,
    fmt=env.get_str("LOG_FORMAT", "keyvalue"),
    level=env.get_str("LOG_LEVEL", "INFO"),
)

# Souk's public API: the gateway, and nothing else. One client per part of the API, each
# with its own breaker, so that a failing part (orders down) leaves the others (browsing)
# working. Every call has both timeouts; reads are retried on connection failures and
# 502/503/504.
STOREFRONT: dict[str, Any] = {
    "GATEWAY_URL": env.get_str("GATEWAY_URL", "http://127.0.0.1:8000"),
    "CONNECT_TIMEOUT": env.get_float("GATEWAY_CONNECT_TIMEOUT", 1.0),
    "READ_TIMEOUT": env.get_float("GATEWAY_READ_TIMEOUT", 10.0),
    "RETRIES": env.get_int("GATEWAY_RETRIES", 1),
    "BREAKER_FAILURES": env.get_int("GATEWAY_BREAKER_FAILURES", 5),
    "BREAKER_RESET_SECONDS": env.get_float("GATEWAY_BREAKER_RESET_SECONDS", 5.0),
    # Sent to the gateway with each browser's address (X-Forwarded-For), so that its rate
    # limits count browsers, not the storefront as one client: the gateway's own
    # GATEWAY_FRONTEND_SECRET. Empty: every shopper counts as the storefront's address.
    "FRONTEND_SECRET": env.get_str("GATEWAY_FRONTEND_SECRET"),
    # Proxies in front of the storefront that append to X-Forwarded-For (an Ingress: 1).
    "TRUSTED_PROXY_COUNT": env.get_int("STOREFRONT_TRUSTED_PROXY_COUNT", 0),
    # Products on a page of the catalogue.
    "PAGE_SIZE": env.get_int("STOREFRONT_PAGE_SIZE", 12),
    # The order page asks again every this many seconds while its status may still move.
    "ORDER_POLL_SECONDS": env.get_int("STOREFRONT_ORDER_POLL_SECONDS", 2),
    # A checkout waits longer than the gateway gives orders (GATEWAY_ORDERS_TIMEOUT, 15 s),
    # so the gateway's answer, even a 504, arrives; and is sent again with its key, for
    # this long, while it gets no answer or meets a send of the same form still running.
    "CHECKOUT_READ_TIMEOUT": env.get_float("STOREFRONT_CHECKOUT_READ_TIMEOUT", 20.0),
    "CHECKOUT_WAIT_SECONDS": env.get_float("STOREFRONT_CHECKOUT_WAIT_SECONDS", 20.0),
}
