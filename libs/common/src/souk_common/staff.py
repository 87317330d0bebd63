"""Staff sign in to every service's admin with their account in the users service.

Accounts live in the users service alone; its admin manages them (with Django's own
``ModelBackend``). Every other service's admin signs staff in here:

- :class:`StaffBackend` sends the username and password to the users service's sign-in
  (``POST /api/auth/token/``, the API every client uses: no service credentials are
  needed, so every service can), verifies the access token it answers with the keys
  every service trusts, and refuses an account that is not staff. The staff member's
  local record is the users account itself: same primary key, same username, no usable
  password, ``is_staff``/``is_active`` as users says. Local staff are superusers of the
  service's admin: the admin classes themselves say what may change (read-only money,
  stock through the ledger...), and there is no account or group to manage there.
- The token pair is kept in the server-side session (never in a cookie).
- :class:`StaffSessionMiddleware` asks the users service on every request of a staff
  session whether the account is still active staff (``GET /api/users/me/`` with the
  access token, renewed with the refresh token shortly before it expires). Demoted or
  deactivated there: the session ends, and the admin's login page says why.
  Users does not answer: the request is refused (503) and the session kept, never
  granted on what the session said before. A password reset or a sign-out elsewhere
  ends the session once its access token (minutes) expires and cannot be renewed.
- Signing out of the admin revokes the refresh token at the users service too.

``SOUK["USERS_URL"]`` names the users service. Installed by
:func:`souk_common.settings.service_settings` (``AUTHENTICATION_BACKENDS`` and
``MIDDLEWARE``); the users service keeps ``ModelBackend``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, get_user_model, logout
from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.debug import sensitive_variables

from souk_common.accounts import users_url
from souk_common.clients import ServiceClient
from souk_common.conf import on_souk_change
from souk_common.errors import UpstreamError
from souk_common.tokens import ACCESS, InvalidToken, claimed_user_id, get_verifier

logger = logging.getLogger(__name__)

STAFF_BACKEND = "souk_common.staff.StaffBackend"
# The users service's token pair of a staff session, and when its access token expires.
ACCESS_SESSION_KEY = "_souk_staff_access"
REFRESH_SESSION_KEY = "_souk_staff_refresh"
EXPIRES_SESSION_KEY = "_souk_staff_access_expires"
# The access token is renewed this long before it expires, so no check meets an expired one.
RENEW_BEFORE_SECONDS = 30

SIGNED_OUT_MESSAGE = "You were signed out: the users service no longer confirms your staff access."
USERS_UNAVAILABLE_MESSAGE = (
    "The users service could not check your staff access just now. Try again in a moment."
)


class UsersUnavailable(Exception):
    """The users service could not be asked, or answered something that makes no sense."""


@dataclass(frozen=True)
class TokenPair:
    """A staff member's tokens from the users service; ``expires`` is the access token's."""

    access: str
    refresh: str
    expires: float


@dataclass(frozen=True)
class StaffAccount:
    """An account as the users service says it is now (it answers only for active ones)."""

    id: int
    username: str
    is_staff: bool


# The users service's API, as a staff member's session uses it -------------------------


class _Refused(Exception):
    """The users service refused the staff member's own access token (401)."""


# The access token of the call under way: the client is shared, the token is per call.
_bearer: ContextVar[str] = ContextVar("souk_staff_bearer")


class _StaffBearer:
    """The client's token source: the signed-in staff member's access token.

    ``ServiceClient`` asks its source to forget a refused token and tries again with
    another; there is no other here, so the refusal is final and raised at once.
    """

    def token(self) -> str:
        return _bearer.get()

    def invalidate(self) -> None:
        raise _Refused()


@functools.cache
def _credentials_client() -> ServiceClient:
    """Sign-in, renewal and sign-out: calls that carry their credentials in the body."""
    # Sign-in hashes a password at users: it may take a while under load.
    return ServiceClient("users", users_url(), connect_timeout=1.0, read_timeout=10.0)


@functools.cache
def _account_client() -> ServiceClient:
    """``/api/users/me/`` with the staff member's own access token."""
    return ServiceClient(
        "users", users_url(), connect_timeout=1.0, read_timeout=2.0, retries=1, auth=_StaffBearer()
    )


def reset() -> None:
    """Forget the clients (settings changed)."""
    _credentials_client.cache_clear()
    _account_client.cache_clear()


on_souk_change(reset)


def _pair(body: Any) -> TokenPair:
    """The pair users answered, its access token verified here; UsersUnavailable otherwise."""
    if not isinstance(body, dict) or not all(
        isinstance(body.get(name), str) for name in ("access", "refresh")
    ):
        raise UsersUnavailable("users answered a token pair that makes no sense")
    try:
        claims = get_verifier().verify(body["access"], token_types=(ACCESS,))
    except InvalidToken as exc:  # not signed by a key we trust (or its keys unreachable)
        raise UsersUnavailable(f"users' access token does not verify: {exc}") from None
    return TokenPair(body["access"], body["refresh"], float(claims["exp"]))


@sensitive_variables("body")
def _post(path: str, body: dict[str, str]) -> tuple[int, Any]:
    try:
        response = _credentials_client().post(path, json=body)
        if response.status not in (200, 204, 400, 401):  # 429 too: sign-in limited at users
            raise UsersUnavailable(f"users answered {response.status} to POST {path}")
        return response.status, response.json() if response.status == 200 else None
    except (UpstreamError, ValueError) as exc:  # refused, hung, circuit open; not JSON
        raise UsersUnavailable(str(exc)) from exc


@sensitive_variables("password")
def users_sign_in(username: str, password: str) -> TokenPair | None:
    """The pair for these credentials, or None: users refused them."""
    status, body = _post("/api/auth/token/", {"username": username, "password": password})
    return _pair(body) if status == 200 else None


def users_renew(refresh: str) -> TokenPair | None:
    """A new pair for a refresh token (which dies), or None: users refused it."""
    status, body = _post("/api/auth/token/refresh/", {"refresh": refresh})
    return _pair(body) if status == 200 else None


def users_sign_out(refresh: str) -> None:
    """Revoke the refresh token at users; a failure is logged (it expires on its own)."""
    try:
        status, _ = _post("/api/auth/logout/", {"refresh": refresh})
    except UsersUnavailable as exc:
        logger.warning("staff sign-out: users did not revoke the refresh token: %s", exc)
        return
    if status != 204:
        logger.info("staff sign-out: users answered %s (the token was dead already)", status)


def users_account(access: str) -> StaffAccount | None:
    """The account of a valid access token as users says it is now; None once users
    refuses the token (the account is deactivated or gone)."""
    bearer = _bearer.set(access)
    try:
        response = _account_client().get("/api/users/me/")
    except _Refused:
        return None
    except UpstreamError as exc:
        raise UsersUnavailable(str(exc)) from exc
    finally:
        _bearer.reset(bearer)
    if response.status != 200:
        raise UsersUnavailable(f"users answered {response.status} to GET /api/users/me/")
    try:
        body = response.json()
    except ValueError as exc:
        raise UsersUnavailable(f"users answered no JSON to GET /api/users/me/: {exc}") from exc
    if (
        not isinstance(body, dict)
        or type(body.get("id")) is not int
        or not isinstance(body.get("username"), str)
        or not isinstance(body.get("is_staff"), bool)
    ):
        raise UsersUnavailable("users answered an account that makes no sense")
    return StaffAccount(body["id"], body["username"], body["is_staff"])


# The local record ----------------------------------------------------------------------


def staff_record_update(*, account_id: int, username: str, is_staff: bool, is_active: bool) -> Any:
    """The local user of a users account, made or brought in step with it.

    Its primary key is the account's id. A local user of another id holding the
    username (one made before staff signed in through users, or an account since
    renamed) is renamed out of the way and deactivated, so its admin history stays.
    """
    user_model = get_user_model()
    manager = user_model._default_manager
    username_field = user_model.USERNAME_FIELD
    with transaction.atomic():
        holders = manager.select_for_update().filter(**{username_field: username})
        for holder in holders.exclude(pk=account_id):
            setattr(holder, username_field, f"former-{holder.pk}-{username}"[:150])
            holder.is_active = False
            holder.set_unusable_password()
            holder.save()
        user = manager.select_for_update().filter(pk=account_id).first()
        if user is None:
            user = user_model(pk=account_id)
            user.set_unusable_password()
        setattr(user, username_field, username)
        user.is_staff = user.is_superuser = is_staff
        user.is_active = is_active
        user.save()
    return user


# Signing in ----------------------------------------------------------------------------


class StaffBackend(BaseBackend):
    """Authenticates staff with the users service (see the module docstring).

    Users not answering is said on the login form (a ``ValidationError``), not passed
    off as a wrong password.
    """

    @sensitive_variables("password")
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:  # the local user model, or None
        if not username or password is None:
            return None
        try:
            pair = users_sign_in(username, password)
        except UsersUnavailable as exc:
            logger.warning("staff sign-in: %s", exc)
            raise ValidationError(USERS_UNAVAILABLE_MESSAGE, code="users_unavailable") from exc
        if pair is None:
            return None
        claims = get_verifier().verify(pair.access, token_types=(ACCESS,))
        account_id = claimed_user_id(claims)
        is_staff = claims.get("is_staff") is True
        if not is_staff:
            users_sign_out(pair.refresh)  # a customer's session has no use here
            get_user_model()._default_manager.filter(pk=account_id).update(
                is_staff=False, is_superuser=False
            )
            return None
        user = staff_record_update(
            account_id=account_id,
            username=str(claims.get("username") or username),
            is_staff=True,
            is_active=True,
        )
        user.users_tokens = pair  # kept in the session once signed in (_keep_tokens)
        return user

    def get_user(self, user_id: Any) -> Any:  # the local user model, or None
        user = get_user_model()._default_manager.filter(pk=user_id).first()
        return user if user is not None and user.is_active and user.is_staff else None


def _stored_pair(session: SessionBase | dict[str, Any]) -> TokenPair | None:
    access, refresh = session.get(ACCESS_SESSION_KEY), session.get(REFRESH_SESSION_KEY)
    expires = session.get(EXPIRES_SESSION_KEY)
    if not isinstance(access, str) or not isinstance(refresh, str):
        return None
    if not isinstance(expires, int | float):
        return None
    return TokenPair(access, refresh, float(expires))


def _store_pair(session: SessionBase, pair: TokenPair) -> None:
    session[ACCESS_SESSION_KEY] = pair.access
    session[REFRESH_SESSION_KEY] = pair.refresh
    session[EXPIRES_SESSION_KEY] = pair.expires


@receiver(user_logged_in)
def _keep_tokens(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    pair = getattr(user, "users_tokens", None)
    if isinstance(pair, TokenPair) and request is not None:
        _store_pair(request.session, pair)


@receiver(user_logged_out)
def _revoke_tokens(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    pair = _stored_pair(request.session) if request is not None else None
    if pair is not None:
        users_sign_out(pair.refresh)


# Every request of a staff session ------------------------------------------------------


def _current_pair(session: SessionBase, now: float) -> TokenPair | None:
    """The session's pair, renewed if its access token is about to expire; None when
    there is none (the session was not made by a sign-in here) or users refused it."""
    pair = _stored_pair(session)
    if pair is None or now < pair.expires - RENEW_BEFORE_SECONDS:
        return pair
    renewed = users_renew(pair.refresh)
    if renewed is None:
        # A refresh token is good once: a request of the same session may have renewed it.
        stored = session.__class__(session.session_key).load()
        renewed = _stored_pair(stored)
        if renewed is None or renewed.refresh == pair.refresh:
            # Not stored yet by the request that renewed it: while the access token
            # lives, it still says who this is (users confirms it next), and a later
            # request finds the new pair; once it is dead, the session ends.
            return pair if now < pair.expires else None
    _store_pair(session, renewed)
    session.save()  # now, so that a request running alongside sees the new pair
    return renewed


def _is_sign_out(request: HttpRequest) -> bool:
    try:
        return request.path_info == reverse("admin:logout")
    except NoReverseMatch:
        return False


def _is_admin(request: HttpRequest) -> bool:
    """A request of the admin: what a staff session is for (the API takes bearer tokens)."""
    try:
        return request.path_info.startswith(reverse("admin:index"))
    except NoReverseMatch:
        return False


class StaffSessionMiddleware:
    """Confirms a staff session with the users service on each of its admin's requests.

    After ``AuthenticationMiddleware`` and ``MessageMiddleware``. Only sessions
    :class:`StaffBackend` signed in are checked (the users service's own admin has
    none), on the admin's pages (the API authenticates bearer tokens, not sessions);
    signing out needs no confirmation.
    """

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponse],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.get_response = get_response
        self.clock = clock

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if (
            SESSION_KEY in session
            and session.get(BACKEND_SESSION_KEY) == STAFF_BACKEND
            and _is_admin(request)
            and not _is_sign_out(request)
        ):
            try:
                self._confirm(request)
            except UsersUnavailable as exc:
                logger.warning("staff session of account %s: %s", session.get(SESSION_KEY), exc)
                response = HttpResponse(USERS_UNAVAILABLE_MESSAGE, status=503)
                response["Content-Type"] = "text/plain; charset=utf-8"
                response["Retry-After"] = "2"
                return response
        return self.get_response(request)

    def _confirm(self, request: HttpRequest) -> None:
        """Sign the session out unless users confirms its account as active staff."""
        session = request.session
        local_id = str(session[SESSION_KEY])
        pair = _current_pair(session, self.clock())
        account = users_account(pair.access) if pair is not None else None
        if account is not None and str(account.id) == local_id:
            if account.is_staff:
                if request.user.get_username() != account.username:  # renamed at users
                    staff_record_update(
                        account_id=account.id,
                        username=account.username,
                        is_staff=True,
                        is_active=True,
                    )
                return
            staff_record_update(  # demoted: the local record says so too
                account_id=account.id, username=account.username, is_staff=False, is_active=True
            )
        elif account is None and pair is not None:
            # Users refused a live token: the account is deactivated or gone.
            get_user_model()._default_manager.filter(pk=local_id).update(is_active=False)
        logout(request)
        messages.error(request, SIGNED_OUT_MESSAGE)
