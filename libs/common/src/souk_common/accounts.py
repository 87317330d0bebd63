"""The users service as every other service needs it: its own service token, and the
current state of the account behind a user's token.

A token says whether its holder was staff when it was issued, and stays valid for
minutes. Staff privileges follow the account instead: before one is used, the
account's state is asked of the users service (``GET /internal/users/{id}/`` with a
``users:read`` service token) and remembered for ``SOUK["ACCOUNT_CACHE_SECONDS"]``
at most, in each process. So a demotion or a deactivation reaches every service
within that time. When the users service cannot be asked, staff privileges are
refused (503), never granted on the token's word.

Configured by ``SOUK["USERS_URL"]``, ``SOUK["SERVICE_CLIENT_ID"]`` and
``SOUK["SERVICE_CLIENT_SECRET"]`` (see :meth:`souk_common.settings.ServiceEnv.service_identity`).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from souk_common.clients import ServiceClient, ServiceTokenProvider
from souk_common.conf import on_souk_change, souk_settings
from souk_common.errors import BadGateway, UpstreamError, UpstreamUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Account:
    """An account as the users service knows it now."""

    id: int
    username: str
    is_active: bool
    is_staff: bool


class AccountDirectory:
    """Accounts' current state from the users service, each remembered for ``cache_seconds``.

    Only answers are remembered (an account, or that there is none); a failure to ask
    is raised every time, as :class:`~souk_common.errors.UpstreamUnavailable` (503), or
    :class:`~souk_common.errors.BadGateway` (502) for an answer that makes no sense.
    """

    def __init__(
        self,
        client: ServiceClient,
        *,
        cache_seconds: float = 5.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._remembered: dict[int, tuple[float, Account | None]] = {}

    def get(self, user_id: int) -> Account | None:
        """The account's current state, or None if there is no such account."""
        with self._lock:
            remembered = self._remembered.get(user_id)
        if remembered is not None and self._clock() < remembered[0]:
            return remembered[1]
        account = self._ask(user_id)
        with self._lock:
            if len(self._remembered) >= self._max_entries:
                self._remembered.clear()
            self._remembered[user_id] = (self._clock() + self._cache_seconds, account)
        return account

    def _ask(self, user_id: int) -> Account | None:
        try:
            response = self._client.get(f"/internal/users/{user_id}/")
        except UpstreamError as exc:  # refused, hung, circuit open, or our token refused
            raise UpstreamUnavailable(
                "The users service could not confirm the account's privileges.", retry_after=2
            ) from exc
        if response.status == 404:
            return None
        if response.status != 200:
            logger.warning("users answered %s for account %s", response.status, user_id)
            raise UpstreamUnavailable(
                "The users service could not confirm the account's privileges.", retry_after=2
            )
        body = response.json()
        if (
            not isinstance(body, dict)
            or body.get("id") != user_id
            or not isinstance(body.get("username"), str)
            or not isinstance(body.get("is_active"), bool)
            or not isinstance(body.get("is_staff"), bool)
        ):
            raise BadGateway("The users service answered with an account that makes no sense.")
        return Account(user_id, body["username"], body["is_active"], body["is_staff"])


def users_url() -> str:
    """``SOUK["USERS_URL"]``: where this service finds the users service."""
    url = str(souk_settings.USERS_URL)
    if not url:
        raise ImproperlyConfigured("SOUK['USERS_URL'] names no users service to ask.")
    return url


@functools.cache
def service_token_provider() -> ServiceTokenProvider:
    """This service's own token from the users service, shared by its clients in the process."""
    return ServiceTokenProvider(
        ServiceClient("users-auth", users_url(), retries=2),
        client_id=str(souk_settings.SERVICE_CLIENT_ID),
        client_secret=str(souk_settings.SERVICE_CLIENT_SECRET),
    )


@functools.cache
def users_client() -> ServiceClient:
    """This process's client for the users service's internal API, with its service token."""
    return ServiceClient(
        "users",
        users_url(),
        connect_timeout=1.0,
        read_timeout=2.0,
        retries=1,
        auth=service_token_provider(),
    )


@functools.cache
def account_directory() -> AccountDirectory:
    """The process's :class:`AccountDirectory`, built once from the ``SOUK`` settings."""
    return AccountDirectory(
        users_client(), cache_seconds=float(souk_settings.ACCOUNT_CACHE_SECONDS)
    )


def reset() -> None:
    """Forget the token, the clients and every remembered account (settings changed)."""
    account_directory.cache_clear()
    users_client.cache_clear()
    service_token_provider.cache_clear()


on_souk_change(reset)
