"""Settings helpers: everything from the environment, read once in settings.py.

Each service builds its settings with a :class:`ServiceEnv`. ``SOUK_ENV``
chooses the mode:

- ``production`` (the default for servers): secrets and database URLs must be
  set in the environment; a missing one stops the process at start-up with a
  message naming it, and ``DJANGO_DEBUG`` may not be on.
- ``development`` (set by ``manage.py``, ``nox -s up`` and the tests): local
  defaults, such as an SQLite file per service under ``var/``.

The building blocks every service shares (apps, middleware, DRF and
drf-spectacular settings) are here too, so each ``settings.py`` only says what
is its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from souk_common.db import database_config
from souk_common.keys import read_pem
from souk_common.logging import logging_config

DEVELOPMENT = "development"
PRODUCTION = "production"

_DEV_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]


class ServiceEnv:
    """Typed access to one service's environment.

    ``service`` names the service (``users``, ``products``...): it prefixes its
    database URL variable (``USERS_DATABASE_URL``) and names its SQLite file.

    django-environ parses the URLs (database, e-mail); the scalars are read here,
    because ``environ.Env``'s take ``maybe`` for false, ``3 seconds`` for 3.0, an
    empty number for an error, and a value starting with ``$`` for the name of
    another variable (a secret that starts so would read as empty). Each refusal
    here names the variable (docs/decisions.md).
    """

    def __init__(
        self,
        service: str,
        *,
        base_dir: Path,
        environ_: Mapping[str, str] | None = None,
    ) -> None:
        self.service = service
        self.base_dir = base_dir
        self._environ = os.environ if environ_ is None else environ_
        self._env = environ.Env()
        mode = self._environ.get("SOUK_ENV", PRODUCTION).strip().lower()
        if mode not in (DEVELOPMENT, PRODUCTION):
            raise ImproperlyConfigured(f"SOUK_ENV={mode!r}: use {DEVELOPMENT!r} or {PRODUCTION!r}.")
        self.mode = mode

    @property
    def is_production(self) -> bool:
        """True unless ``SOUK_ENV=development``."""
        return self.mode == PRODUCTION

    # Scalars ---------------------------------------------------------------

    def get_str(self, name: str, default: str = "") -> str:
        """The variable as a string, or ``default`` when unset or empty."""
        value = self._environ.get(name, "")
        return value if value != "" else default

    def required(self, name: str, *, development_default: str) -> str:
        """A variable production must set; development falls back to a local default."""
        value = self._environ.get(name, "")
        if value:
            return value
        if self.is_production:
            raise ImproperlyConfigured(
                f"{name} must be set when SOUK_ENV=production "
                f"(the {self.service} service refuses to start without it; see .env.example)."
            )
        return development_default

    def get_bool(self, name: str, default: bool = False) -> bool:
        """``true/false``, ``1/0``, ``yes/no``, ``on/off``."""
        raw = self._environ.get(name, "").strip().lower()
        if raw == "":
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false).")

    def get_int(self, name: str, default: int) -> int:
        """An integer variable."""
        raw = self._environ.get(name, "").strip()
        try:
            return int(raw) if raw else default
        except ValueError:
            raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None

    def get_float(self, name: str, default: float) -> float:
        """A number variable (seconds, ratios...)."""
        raw = self._environ.get(name, "").strip()
        try:
            return float(raw) if raw else default
        except ValueError:
            raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None

    def get_list(self, name: str, default: list[str] | None = None) -> list[str]:
        """A comma-separated list."""
        raw = self._environ.get(name, "")
        if not raw.strip():
            return list(default or [])
        return [item.strip() for item in raw.split(",") if item.strip()]

    # Django settings ---------------------------------------------------------

    @property
    def var_dir(self) -> Path:
        """Local state (SQLite files, development keys): ``SOUK_VAR_DIR`` or ``<repo>/var``."""
        configured = self.get_str("SOUK_VAR_DIR")
        return Path(configured) if configured else self.base_dir.parent.parent / "var"

    def secret_key(self) -> str:
        """``SECRET_KEY``; required in production."""
        return self.required(
            "SECRET_KEY", development_default=f"django-insecure-development-only-{self.service}"
        )

    def debug(self) -> bool:
        """``DJANGO_DEBUG`` (off by default); refused in production."""
        debug = self.get_bool("DJANGO_DEBUG", False)
        if debug and self.is_production:
            raise ImproperlyConfigured("DJANGO_DEBUG must not be on when SOUK_ENV=production.")
        return debug

    def allowed_hosts(self) -> list[str]:
        """``ALLOWED_HOSTS``; required in production, local names in development.

        ``POD_IP`` (Kubernetes' downward API) is allowed too: Prometheus scrapes a pod by
        its address, and ``Host`` is then that address, which no list can name ahead.
        """
        raw = self.required("ALLOWED_HOSTS", development_default=",".join(_DEV_HOSTS))
        hosts = [host.strip() for host in raw.split(",") if host.strip()]
        pod_ip = self.get_str("POD_IP").strip()
        return [*hosts, pod_ip] if pod_ip else hosts

    def secure_cookies(self) -> bool:
        """``SECURE_COOKIES``: admin session and CSRF cookies only over HTTPS.

        On by default in production. Browsers still send them to ``localhost``
        over plain HTTP, so an admin reached through a local port forward works.
        """
        return self.get_bool("SECURE_COOKIES", self.is_production)

    def hsts_seconds(self) -> int:
        """``SECURE_HSTS_SECONDS`` (0, off, by default): set it once every client uses HTTPS."""
        return self.get_int("SECURE_HSTS_SECONDS", 0)

    @property
    def database_url_variable(self) -> str:
        """The name of this service's database URL variable, e.g. ``USERS_DATABASE_URL``."""
        return f"{self.service.upper()}_DATABASE_URL"

    def database(self) -> dict[str, Any]:
        """``DATABASES["default"]`` from ``<SERVICE>_DATABASE_URL``.

        Development defaults to ``var/<service>.sqlite3``. PostgreSQL gets
        persistent, health-checked connections and a connect timeout; SQLite
        gets WAL and immediate transactions so concurrent writers wait instead
        of failing.
        """
        name = self.database_url_variable
        url = self.get_str(name)
        if not url:
            if self.is_production:
                raise ImproperlyConfigured(f"{name} must be set when SOUK_ENV=production.")
            self.var_dir.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{self.var_dir / f'{self.service}.sqlite3'}"
        return database_config(
            url,
            conn_max_age=self.get_int("DATABASE_CONN_MAX_AGE", 60),
            connect_timeout=self.get_int("DATABASE_CONNECT_TIMEOUT", 3),
            health_checks=self.get_bool("DATABASE_HEALTH_CHECKS", False),
            pool_size=self.get_int("DATABASE_POOL_SIZE", 10),
        )

    def cache(self) -> dict[str, Any]:
        """``CACHES``: Redis at ``REDIS_URL`` when set, else a table in the service's database.

        Either way every worker process shares it, which rate limits need.
        """
        url = self.get_str("REDIS_URL")
        if url:
            default = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        else:
            default = {
                "BACKEND": "souk_common.cache.DatabaseCache",
                "LOCATION": "souk_cache",
            }
        return {"default": default}

    def proxy_secret(self) -> str:
        """``GATEWAY_PROXY_SECRET``: what the gateway sends in ``X-Souk-Proxy-Secret``.

        A request carrying it comes from the gateway, and its ``X-Forwarded-For``
        names the client. Required in production; in development it may be empty,
        and then no ``X-Forwarded-For`` is believed.
        """
        return self.required("GATEWAY_PROXY_SECRET", development_default="")

    def service_identity(self, client_id: str) -> dict[str, Any]:
        """``SOUK`` keys naming this service to the users service (souk_common.accounts).

        ``USERS_URL`` (development: the users service on 8001), ``SERVICE_CLIENT_ID``
        (``client_id`` unless set) and ``SERVICE_CLIENT_SECRET`` (required in
        production): the service client registered in the users service, whose token
        this service calls users and other services with.
        """
        return {
            "USERS_URL": self.get_str("USERS_URL", "http://127.0.0.1:8001"),
            "SERVICE_CLIENT_ID": self.get_str("SERVICE_CLIENT_ID", client_id),
            "SERVICE_CLIENT_SECRET": self.required("SERVICE_CLIENT_SECRET", development_default=""),
        }

    def email(self) -> dict[str, Any]:
        """Django's ``EMAIL_*`` settings from ``EMAIL_URL`` (parsed by django-environ).

        ``smtp://user:pass@host:25``, ``smtp+tls://...:587`` (STARTTLS) or
        ``smtp+ssl://...:465`` (TLS from the start). Required in production; in
        development mail is written as files under ``var/mail/``. ``EMAIL_FROM`` is
        the sender; ``EMAIL_TIMEOUT`` (10 s) bounds how long a mail server may hang a send.
        """
        url = self.required("EMAIL_URL", development_default="")
        if url:
            config = {
                key: "" if value is None else value
                for key, value in environ.Env.email_url_config(url).items()
            }
        else:
            config = {
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(self.var_dir / "mail"),
            }
        return {
            **config,
            "DEFAULT_FROM_EMAIL": self.get_str("EMAIL_FROM", "Souk <shop@souk.localhost>"),
            "EMAIL_TIMEOUT": self.get_float("EMAIL_TIMEOUT", 10.0),
        }

    def events(self, *, handlers: str = "") -> dict[str, Any]:
        """``SOUK`` keys of souk_common.events: the broker, and the consumer's handlers.

        ``BROKER_URL`` (required in production; e.g. ``amqp://guest:guest@rabbitmq:5672//``)
        defaults in development to the embedded broker, one SQLite file under ``var/``
        that every service of the stack shares. ``EVENTS_MAX_ATTEMPTS``,
        ``EVENTS_RETRY_SECONDS`` and ``EVENTS_RELAY_POLL_SECONDS`` tune the consumer
        and the relay; ``HEARTBEAT_FILE`` names the file their loops touch as they go
        round (souk_common.heartbeat).
        """
        embedded = f"sqlite:///{self.var_dir / 'broker.sqlite3'}"
        return {
            "EVENTS_SOURCE": self.service,
            "BROKER_URL": self.required("BROKER_URL", development_default=embedded),
            "EVENTS_HANDLERS": handlers,
            "EVENTS_MAX_ATTEMPTS": self.get_int("EVENTS_MAX_ATTEMPTS", 5),
            "EVENTS_RETRY_SECONDS": self.get_float("EVENTS_RETRY_SECONDS", 2.0),
            "EVENTS_RELAY_POLL_SECONDS": self.get_float("EVENTS_RELAY_POLL_SECONDS", 0.1),
            "HEARTBEAT_FILE": self.get_str("HEARTBEAT_FILE"),
        }

    def jwt_verification(self) -> dict[str, Any]:
        """``SOUK`` keys saying where verifying services find the users service's public keys.

        ``JWT_JWKS_URL`` (development: the users service on 8001) and/or PEM public
        keys in ``JWT_PUBLIC_KEYS`` (``\\n`` escapes allowed, ``;;`` between keys) or
        files in ``JWT_PUBLIC_KEY_FILES``. Production needs at least one.
        """
        users_url = self.get_str("USERS_URL", "http://127.0.0.1:8001")
        default_jwks = "" if self.is_production else f"{users_url}/api/auth/jwks.json"
        # Set but empty means "no JWKS" (offline keys only), not "the default".
        jwks_url = self._environ.get("JWT_JWKS_URL", default_jwks)
        pems = [read_pem(value=pem) for pem in self.get_str("JWT_PUBLIC_KEYS").split(";;")]
        pems += [read_pem(path=path) for path in self.get_list("JWT_PUBLIC_KEY_FILES")]
        pems = [pem for pem in pems if pem.strip()]
        if self.is_production and not (jwks_url or pems):
            raise ImproperlyConfigured(
                "JWT_JWKS_URL or JWT_PUBLIC_KEYS must be set when SOUK_ENV=production."
            )
        return {
            "JWT_JWKS_URL": jwks_url,
            "JWT_PUBLIC_KEYS": pems,
            "JWT_ISSUER": self.get_str("JWT_ISSUER", "souk-users"),
            "JWT_AUDIENCE": self.get_str("JWT_AUDIENCE", "souk"),
        }


# Building blocks shared by every service's settings.py ------------------------

DJANGO_APPS = [
    "souk_common.apps.AdminConfig",  # django.contrib.admin, its logins limited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

THIRD_PARTY_APPS = [
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "souk_common.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Inside WhiteNoise, which serves static files compressed ahead of time.
    "souk_common.compression.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A staff session lasts as long as the users service confirms it (souk_common.staff).
    "souk_common.staff.StaffSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Staff sign in to a service's admin with their users account (souk_common.staff); the
# users service, whose admin manages the accounts, sets ModelBackend instead.
AUTHENTICATION_BACKENDS = ["souk_common.staff.StaffBackend"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]


# Redirecting to https is the TLS terminator's job: the services speak plain HTTP
# on their private network, health checks included.
SILENCED_SYSTEM_CHECKS = ["security.W008"]


def rest_framework_settings(
    *,
    authentication_classes: tuple[str, ...] = (),
    permission_classes: tuple[str, ...] = ("rest_framework.permissions.AllowAny",),
    **overrides: Any,
) -> dict[str, Any]:
    """DRF settings: JSON in (bounded nesting) and out, one exception handler, capped pagination.

    JSON is answered unless a client asks for HTML (``Accept: text/html``, as browsers
    do, or ``?format=api``): then DRF's browsable API, the same answer as a page.
    """
    return {
        "DEFAULT_RENDERER_CLASSES": [
            "rest_framework.renderers.JSONRenderer",
            "souk_common.renderers.BrowsableAPIRenderer",
        ],
        "DEFAULT_PARSER_CLASSES": ["souk_common.parsers.JSONParser"],
        "DEFAULT_AUTHENTICATION_CLASSES": list(authentication_classes),
        "DEFAULT_PERMISSION_CLASSES": list(permission_classes),
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
        "DEFAULT_PAGINATION_CLASS": "souk_common.pagination.PageNumberPagination",
        "EXCEPTION_HANDLER": "souk_common.exception_handlers.exception_handler",
        "COERCE_DECIMAL_TO_STRING": True,
        **overrides,
    }


def spectacular_settings(*, title: str, description: str, **overrides: Any) -> dict[str, Any]:
    """drf-spectacular settings with Swagger UI served from the sidecar package (offline)."""
    return {
        "TITLE": title,
        "DESCRIPTION": description,
        "VERSION": "1.0.0",
        "SERVE_INCLUDE_SCHEMA": False,
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        "COMPONENT_SPLIT_REQUEST": True,
        **overrides,
    }


def service_settings(
    env: ServiceEnv, *, apps: list[str], title: str, description: str
) -> dict[str, Any]:
    """Every setting the services share, for one service's ``settings.py``::

        env = ServiceEnv("products", base_dir=BASE_DIR)
        globals().update(service_settings(env, apps=["catalogue"], title=..., description=...))

    Security from the environment (secret key, hosts, cookies, HSTS), the apps
    (Django's, DRF and drf-spectacular, souk_common, then ``apps``), middleware,
    templates, the database and cache from their URLs, UTC and i18n, static files
    through WhiteNoise, DRF with stateless JWT authentication, staff signing in
    to the admin with their users account (souk_common.staff), the OpenAPI
    settings, and logging with the request id. A service sets after it only what
    is its own, and overrides what it must (the users service its authentication).
    """
    project = f"{env.service}_service"
    secure_cookies = env.secure_cookies()
    return {
        # Who this is, in its logs and traces.
        "SERVICE_NAME": env.service,
        "SECRET_KEY": env.secret_key(),
        "DEBUG": env.debug(),
        "ALLOWED_HOSTS": env.allowed_hosts(),
        # HTTPS terminates in front of the gateway (see docs/security.md).
        "SESSION_COOKIE_SECURE": secure_cookies,
        "CSRF_COOKIE_SECURE": secure_cookies,
        # A browser keeps one cookie jar per host, whatever the port: every admin on
        # 127.0.0.1 names its cookies for itself, so that signing in to one does not
        # sign out of another.
        "SESSION_COOKIE_NAME": f"souk_{env.service}_session",
        "CSRF_COOKIE_NAME": f"souk_{env.service}_csrftoken",
        "SECURE_HSTS_SECONDS": env.hsts_seconds(),
        "SILENCED_SYSTEM_CHECKS": SILENCED_SYSTEM_CHECKS,
        "INSTALLED_APPS": [*DJANGO_APPS, *THIRD_PARTY_APPS, "souk_common", *apps],
        "MIDDLEWARE": list(MIDDLEWARE),  # its own: the Django instrumentation adds to it
        "AUTHENTICATION_BACKENDS": AUTHENTICATION_BACKENDS,
        "ROOT_URLCONF": f"{project}.urls",
        "WSGI_APPLICATION": f"{project}.wsgi.application",
        "TEMPLATES": TEMPLATES,
        "DATABASES": {"default": env.database()},
        "CACHES": env.cache(),
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "AUTH_PASSWORD_VALIDATORS": AUTH_PASSWORD_VALIDATORS,
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": True,
        "USE_TZ": True,
        "APPEND_SLASH": False,
        "STATIC_URL": "static/",
        "STATIC_ROOT": env.get_str("STATIC_ROOT") or None,
        "WHITENOISE_USE_FINDERS": not env.is_production,
        "REST_FRAMEWORK": rest_framework_settings(
            authentication_classes=("souk_common.auth.JWTAuthentication",),
        ),
        "SPECTACULAR_SETTINGS": spectacular_settings(title=title, description=description),
        # Where people shop (the admin's "View site"); empty: the service's API docs.
        "STOREFRONT_URL": env.get_str("STOREFRONT_URL"),
        "LOGGING": logging_config(
            service=env.service,
            fmt=env.get_str("LOG_FORMAT", "keyvalue"),
            level=env.get_str("LOG_LEVEL", "INFO"),
        ),
    }
