"""Writes of the accounts app: registration, profiles, sign-in, tokens, service clients.

They speak the domain: each refusal is a domain error (:class:`InvalidInput` with the
fields' messages, or one of the :class:`NotAuthenticated` errors below), answered by the
one exception handler; results are models or the dataclasses below, which views serialize.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import links, selectors, tokens
from accounts.models import ServiceClient, User
from souk_common.errors import ApplicationError, ErrorCode, InvalidInput, NotAuthenticated
from souk_common.events.publish import event_publish
from souk_common.tokens import REFRESH, InvalidToken, claimed_user_id

# The shortest secret a service client may have.
SERVICE_CLIENT_SECRET_MIN_LENGTH = 16
EMAIL_TAKEN = "A user with that email already exists."
USER_REGISTERED = "user.registered"
USER_EMAIL_CHANGED = "user.email_changed"
USER_PASSWORD_RESET_REQUESTED = "user.password_reset_requested"  # noqa: S105 - an event type


class InvalidCredentials(NotAuthenticated):
    """Sign-in refused: no active account has this username and password."""

    default_message = "No active account found with the given credentials."


class AccountInactive(NotAuthenticated):
    """The account a token names has been deactivated or deleted."""

    default_message = "The account is inactive or does not exist."


class InvalidRefreshToken(NotAuthenticated):
    """Not a refresh token this service issued: forged, expired or malformed."""

    default_message = "Invalid refresh token: Token is invalid"


class NotARefreshToken(InvalidRefreshToken):
    """A token this service issued, of another kind (an access or a service token)."""

    default_message = "Invalid refresh token: Token has wrong type"


class RefreshTokenRevoked(InvalidRefreshToken):
    """A refresh token used already (rotation), logged out, or revoked by a deactivation."""

    default_message = "Invalid refresh token: Token is blacklisted"


class InvalidClientCredentials(NotAuthenticated):
    """A service client unknown, inactive, or with another secret."""

    default_message = "Unknown client or wrong secret."


class InvalidLinkToken(ApplicationError):
    """A mailed link's token that is malformed, forged, used already, or expired (or its
    account's address or password changed since, or it was deactivated)."""

    code = ErrorCode.VALIDATION_ERROR
    default_message = "This link is invalid, has expired or has been used already."

    def __init__(self) -> None:
        super().__init__(details={"token": [self.default_message]})


@dataclass(frozen=True)
class TokenPair:
    """What signing in gives: an access token, and the refresh token that renews it."""

    access: str
    refresh: str


@dataclass(frozen=True)
class ServiceToken:
    """What a service client's credentials give: a token with its lifetime and scopes."""

    access: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme, not a secret


# Users ------------------------------------------------------------------------------


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    others = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.exists()


def user_register(*, username: str, email: str, password: str) -> User:
    """Create an account; duplicate names or emails (any case) and weak passwords are refused.

    Publishes ``user.registered`` (version 1) with the account: ``user_id``, ``username``,
    ``date_joined``, and ``verification_token``, the token of the link that verifies its
    address (a secret of the event: its welcome mail carries the link). No e-mail address:
    personal data stays here, and whoever writes to the user asks for the current one
    (``GET /internal/users/{id}/contact/``) when it does.
    """
    username = username.strip()
    email = User.objects.normalize_email(email.strip())
    errors: dict[str, list[str]] = {}
    try:
        ASCIIUsernameValidator()(username)
    except ValidationError as exc:
        errors["username"] = list(exc.messages)
    else:  # only an ASCII name is compared: the database's case folding matches look-alikes
        if User.objects.filter(username__iexact=username).exists():
            errors["username"] = ["A user with that username already exists."]
    if _email_taken(email):
        errors["email"] = [EMAIL_TAKEN]
    try:
        validate_password(password, user=User(username=username, email=email))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise InvalidInput(details=errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
            event_publish(
                type=USER_REGISTERED,
                data={
                    "user_id": user.pk,
                    "username": user.username,
                    "date_joined": user.date_joined.isoformat(),
                    **_verification_link(user),
                },
                secrets=("verification_token",),
            )
    except IntegrityError:
        # Lost a race with an identical registration: the unique constraints decided.
        raise InvalidInput(
            details={"username": ["A user with that username or email already exists."]}
        ) from None
    return user


def _verification_link(user: User) -> dict[str, str]:
    """What an event says of the link that verifies ``user``'s address as it is now."""
    tokens_ = links.email_verification_tokens
    return {
        "verification_token": links.link_token(tokens_, user),
        "verification_expires_at": (timezone.now() + tokens_.lifetime()).isoformat(),
    }


def user_update_profile(*, user: User, data: dict[str, Any]) -> User:
    """Change a user's own email and names; privilege fields are not accepted here.

    A new address is unverified: ``user.email_changed`` (version 1: ``user_id``,
    ``verification_token`` as a secret, ``verification_expires_at``) asks for a link
    to it, and the link to the old one no longer works.
    """
    email_changed = False
    if "email" in data:
        email = User.objects.normalize_email(data["email"].strip())
        if _email_taken(email, exclude_pk=user.pk):
            raise InvalidInput(details={"email": [EMAIL_TAKEN]})
        email_changed = email != user.email
        user.email = email
        if email_changed:
            user.email_verified = False
    for field in ("first_name", "last_name"):
        if field in data:
            setattr(user, field, data[field])
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_verified", "first_name", "last_name"])
            if email_changed:
                event_publish(
                    type=USER_EMAIL_CHANGED,
                    data={"user_id": user.pk, **_verification_link(user)},
                    secrets=("verification_token",),
                )
    except IntegrityError:
        raise InvalidInput(details={"email": [EMAIL_TAKEN]}) from None
    return user


def user_update_status(*, user: User, is_active: bool | None, is_staff: bool | None) -> User:
    """Staff: activate, deactivate, promote or demote an account.

    Deactivation also revokes every refresh token the user holds, so no
    session survives it, not even after a later reactivation.
    """
    with transaction.atomic():
        if is_active is not None:
            user.is_active = is_active
        if is_staff is not None:
            user.is_staff = is_staff
        user.save(update_fields=["is_active", "is_staff"])
        if is_active is False:
            _revoke_refresh_tokens(user)
    return user


def _revoke_refresh_tokens(user: User) -> None:
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


class _NoAccount(Exception):
    """Rolls back the rehearsal of a password reset for an address with no account."""


def password_reset_request(*, email: str) -> None:
    """Mail a link that resets the password of the active account with this address, if any.

    Publishes ``user.password_reset_requested`` (version 1: ``user_id``, ``reset_token``
    as a secret, ``reset_expires_at``); notifications mails the link. The caller learns
    nothing of whether the address has an account, not even from the time taken: an
    address with none does the same work (the same query, a token made, the event written
    in a transaction), and its transaction is rolled back instead of committed. The commit
    does not wait for the disk, which a rollback never does: a crash in the next second
    may lose the request, and the user asks again.
    """
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    account = user or User(pk=0, email=email)
    tokens_ = links.password_reset_tokens
    try:
        with transaction.atomic():
            _commit_without_waiting_for_the_disk()
            event_publish(
                type=USER_PASSWORD_RESET_REQUESTED,
                data={
                    "user_id": account.pk,
                    "reset_token": links.link_token(tokens_, account),
                    "reset_expires_at": (timezone.now() + tokens_.lifetime()).isoformat(),
                },
                secrets=("reset_token",),
            )
            if user is None:
                raise _NoAccount
    except _NoAccount:
        pass


def _commit_without_waiting_for_the_disk() -> None:
    """The current transaction's commit returns before its WAL is flushed (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # A setting of this transaction alone, which the ORM has no word for.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _link_account(token: str, link_tokens: links.LinkTokens) -> User:
    """The active account a link's token is for, locked for the change it makes;
    InvalidLinkToken for a token that is not valid now."""
    parts = links.link_token_parts(token)
    if parts is None:
        raise InvalidLinkToken()
    user_id, check = parts
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None or not link_tokens.check_token(user, check):
        raise InvalidLinkToken()
    return user


def password_reset_confirm(*, token: str, new_password: str) -> User:
    """Set a new password with a reset link's token; every session of the account ends.

    The token works once (a new password changes what it hashes) and until it expires
    (``PASSWORD_RESET_TIMEOUT``); InvalidLinkToken otherwise. A password the validators
    refuse is InvalidInput on ``new_password``, and the token still works. Every refresh
    token the user holds is revoked, as a deactivation revokes them. The link reached the
    account's mailbox, so its address is verified too.
    """
    with transaction.atomic():
        user = _link_account(token, links.password_reset_tokens)
        try:
            validate_password(new_password, user=user)
        except ValidationError as exc:
            raise InvalidInput(details={"new_password": list(exc.messages)}) from None
        user.set_password(new_password)
        user.email_verified = True
        user.save(update_fields=["password", "email_verified"])
        _revoke_refresh_tokens(user)
    return user


def email_verify(*, token: str) -> User:
    """Mark an account's address verified with the token of the link mailed to it.

    The token works once, for the address it was mailed to, until it expires
    (``EMAIL_VERIFICATION_TIMEOUT``); InvalidLinkToken otherwise.
    """
    with transaction.atomic():
        user = _link_account(token, links.email_verification_tokens)
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user


# Sign-in and user tokens ----------------------------------------------------------


def _token_pair_issue(user: User) -> TokenPair:
    """A new pair with the user's current claims; the refresh token is recorded as outstanding."""
    now = timezone.now()
    refresh = tokens.refresh_token_for(user, now=now)
    OutstandingToken.objects.create(
        user=user,
        jti=refresh.jti,
        token=refresh.token,
        created_at=now,
        expires_at=refresh.expires_at,
    )
    return TokenPair(access=tokens.access_token_for(user, now=now), refresh=refresh.token)


def auth_login(*, request: HttpRequest | None, username: str, password: str) -> TokenPair:
    """A token pair for valid credentials of an active account; InvalidCredentials otherwise.

    A username that is not ASCII is refused like a wrong password: it names no account
    (see ``CaseInsensitiveUserManager``), whatever the database's case folding says.
    """
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User):
        raise InvalidCredentials()
    update_last_login(User, user)
    return _token_pair_issue(user)


def _refresh_claims(raw: str) -> dict[str, Any]:
    """The claims of a refresh token this service issued and nobody has used up."""
    try:
        claims = tokens.claims_of(raw)
    except InvalidToken:
        raise InvalidRefreshToken() from None
    if claims["token_type"] != REFRESH:
        raise NotARefreshToken()
    if BlacklistedToken.objects.filter(token__jti=claims["jti"]).exists():
        raise RefreshTokenRevoked()
    return claims


def auth_refresh(*, refresh: str) -> TokenPair:
    """Trade a refresh token for a new pair; the old one is dead from now on.

    The outstanding-token row is locked, so two concurrent uses of one refresh
    token cannot both succeed. A deactivated user gets nothing.
    """
    claims = _refresh_claims(refresh)
    with transaction.atomic():
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=claims["jti"]).first()
        if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
            raise RefreshTokenRevoked()
        user = selectors.user_get_active(user_id=claimed_user_id(claims))
        if user is None:
            raise AccountInactive()
        BlacklistedToken.objects.create(token=outstanding)
        return _token_pair_issue(user)


def auth_logout(*, refresh: str) -> None:
    """Kill a refresh token (the access token it came with expires on its own)."""
    claims = _refresh_claims(refresh)
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=claims["jti"],
        defaults={
            "user": User.objects.filter(pk=claimed_user_id(claims)).first(),
            "token": refresh,
            "created_at": timezone.now(),
            "expires_at": datetime.fromtimestamp(claims["exp"], tz=UTC),
        },
    )
    BlacklistedToken.objects.get_or_create(token=outstanding)


# Service identity -------------------------------------------------------------------


def service_client_check(*, scopes: Iterable[str], secret: str | None, has_secret: bool) -> None:
    """Refuse (InvalidInput) scopes nobody may be granted, a secret too short to keep, or
    no secret for a client that has none yet (``secret=None`` keeps the current one)."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(scopes) - set(settings.SERVICE_SCOPES))
    if unknown:
        errors["scopes"] = [f"Unknown scopes: {', '.join(unknown)}."]
    if secret is None and not has_secret:
        errors["secret"] = ["A new service client needs a secret."]
    elif secret is not None and len(secret) < SERVICE_CLIENT_SECRET_MIN_LENGTH:
        errors["secret"] = [f"Use at least {SERVICE_CLIENT_SECRET_MIN_LENGTH} characters."]
    if errors:
        raise InvalidInput(details=errors)


def service_client_ensure(
    *, client_id: str, scopes: Iterable[str], secret: str | None, is_active: bool = True
) -> ServiceClient:
    """Create or update a service client with these scopes (idempotent).

    The secret is stored hashed; ``secret=None`` keeps the current one. Refused with
    InvalidInput as :func:`service_client_check` says, or for a ``client_id`` that is not
    a slug.
    """
    scopes = set(scopes)
    client = ServiceClient.objects.filter(client_id=client_id).first() or ServiceClient(
        client_id=client_id
    )
    service_client_check(scopes=scopes, secret=secret, has_secret=bool(client.secret_hash))
    if secret is not None and not (client.secret_hash and client.check_secret(secret)):
        client.set_secret(secret)
    client.scopes = " ".join(sorted(scopes))
    client.is_active = is_active
    try:
        client.full_clean()
    except ValidationError as exc:
        raise InvalidInput(details=exc.message_dict) from None
    client.save()
    return client


def service_token_issue(*, client_id: str, client_secret: str) -> ServiceToken:
    """A scoped service token for valid client credentials; InvalidClientCredentials otherwise."""
    client = ServiceClient.objects.filter(client_id=client_id, is_active=True).first()
    if client is None:
        make_password(client_secret)  # spend the same time as a real check
        raise InvalidClientCredentials()
    if not client.check_secret(client_secret):
        raise InvalidClientCredentials()
    return ServiceToken(
        access=tokens.service_token_for(client, now=timezone.now()),
        expires_in=int(settings.SERVICE_TOKEN_LIFETIME.total_seconds()),
        scope=" ".join(client.scope_list),
    )
