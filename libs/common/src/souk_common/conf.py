"""souk_common's own settings: one ``SOUK`` dict in a service's settings.py.

Like DRF's ``REST_FRAMEWORK``, every key has a documented default below and a
service sets only what differs::

    SOUK = {"JWT_JWKS_URL": "http://users:8000/api/auth/jwks.json"}

Read them through :data:`souk_settings`; tests that override ``SOUK`` see the
new values at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS: dict[str, Any] = {
    # Who issues tokens and for whom: checked on every token.
    "JWT_ISSUER": "souk-users",
    "JWT_AUDIENCE": "souk",
    # Where verifying services find the public keys: the users service's JWK Set...
    "JWT_JWKS_URL": "",
    # ...or, for offline use, PEM public keys given directly (both may be set).
    "JWT_PUBLIC_KEYS": [],
    # JWKS fetching: timeout, how long a fetched set is trusted, and the least time
    # between two fetches caused by unknown key ids (so forged kids cannot flood users).
    "JWKS_TIMEOUT": 2.0,
    "JWKS_CACHE_SECONDS": 300.0,
    "JWKS_MIN_REFRESH_SECONDS": 5.0,
    # Clock skew tolerated on exp/iat, in seconds.
    "JWT_LEEWAY": 5,
    # How deeply arrays and objects may nest in a request body (souk_common.parsers):
    # ours nest three levels at most; deeper bodies are refused with 400.
    "JSON_MAX_DEPTH": 32,
    # Answers at least this large are gzipped for clients that accept it; smaller ones are
    # sent as they are (souk_common.compression; the numbers in docs/benchmarks.md).
    "GZIP_MIN_BYTES": 1024,
    # The secret the gateway sends in X-Souk-Proxy-Secret (GATEWAY_PROXY_SECRET): a request
    # that carries it comes from the gateway, whose X-Forwarded-For names the client
    # (souk_common.network.client_address). Empty: no X-Forwarded-For is believed.
    "PROXY_SECRET": "",
    # This service's identity with the users service (a service client there): where it is,
    # and the credentials its service token is issued for (souk_common.accounts).
    "USERS_URL": "",
    "SERVICE_CLIENT_ID": "",
    "SERVICE_CLIENT_SECRET": "",
    # How long an account's state from the users service is remembered before a staff
    # privilege is used again: the most a demotion or deactivation takes to apply.
    "ACCOUNT_CACHE_SECONDS": 5.0,
    # Failed logins each service's admin allows per client address and per username
    # (folded like sign-in's) in a window, counted in the shared cache (souk_common.admin).
    "ADMIN_LOGIN_FAILURES_PER_ADDRESS": 20,
    "ADMIN_LOGIN_FAILURES_PER_USERNAME": 5,
    "ADMIN_LOGIN_WINDOW_SECONDS": 900,
    # Events (souk_common.events): the service that publishes (its exchange is
    # souk.<EVENTS_SOURCE>) and consumes (its queue is souk.<EVENTS_SOURCE>), the broker
    # (amqp://... for RabbitMQ, sqlite:///<file> for the embedded one), and the dotted
    # path of the consumer's Handlers.
    "EVENTS_SOURCE": "",
    "BROKER_URL": "",
    "EVENTS_HANDLERS": "",
    # A handler that raises is tried again after EVENTS_RETRY_SECONDS, then twice as long
    # each time (at most EVENTS_RETRY_MAX_SECONDS); after EVENTS_MAX_ATTEMPTS attempts in
    # all, the event is a dead letter.
    "EVENTS_MAX_ATTEMPTS": 5,
    "EVENTS_RETRY_SECONDS": 2.0,
    "EVENTS_RETRY_MAX_SECONDS": 300.0,
    # How often an idle relay looks for new events, and how long sent events are kept.
    "EVENTS_RELAY_POLL_SECONDS": 0.1,
    "EVENTS_OUTBOX_RETENTION_SECONDS": 7 * 24 * 3600,
    # A file the relay's, the consumer's and the reconciler's loops touch as they go round,
    # for a liveness probe (souk_common.heartbeat); none by default.
    "HEARTBEAT_FILE": "",
}


class SoukSettings:
    """Attribute access to ``settings.SOUK`` merged over :data:`DEFAULTS`."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] | None = None

    def _merged(self) -> dict[str, Any]:
        if self._cache is None:
            user = getattr(settings, "SOUK", {})
            unknown = set(user) - set(DEFAULTS)
            if unknown:
                raise AttributeError(f"unknown SOUK settings: {sorted(unknown)}")
            self._cache = {**DEFAULTS, **user}
        return self._cache

    def __getattr__(self, name: str) -> Any:
        try:
            return self._merged()[name]
        except KeyError:
            raise AttributeError(f"no SOUK setting {name!r}") from None

    def reload(self) -> None:
        self._cache = None


souk_settings = SoukSettings()


def on_souk_change(reset: Callable[[], None]) -> None:
    """Call ``reset`` whenever ``settings.SOUK`` changes (tests override it), after the
    new values are in: what a module built from the old ones must go."""

    def receiver(*, setting: str, **kwargs: Any) -> None:
        if setting == "SOUK":
            reset()

    _receivers.append(receiver)  # a signal holds its receivers weakly
    setting_changed.connect(receiver)


_receivers: list[Callable[..., None]] = []
on_souk_change(souk_settings.reload)
