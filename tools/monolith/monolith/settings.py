"""Settings of the monolith baseline: the bare minimum a Django shop runs with."""

import os

from souk_common.db import database_config

SECRET_KEY = os.environ.get("MONOLITH_SECRET_KEY", "monolith-baseline-only")
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["rest_framework", "monolith"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "monolith.urls"
WSGI_APPLICATION = "monolith.wsgi.application"
# The same database settings as a Souk service's: a pool of ten connections per process.
DATABASES = {
    "default": database_config(os.environ["MONOLITH_DATABASE_URL"], conn_max_age=60, pool_size=10)
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}
# The users service's public key (PEM): the monolith checks the same RS256 tokens.
JWT_PUBLIC_KEY = os.environ.get("MONOLITH_JWT_PUBLIC_KEY", "")
