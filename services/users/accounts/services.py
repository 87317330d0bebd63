"""Writes of the accounts app: registration, profiles, sign-in, tokens, service clients."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import tokens
from accounts.models import ServiceClient, User
from souk_common.tokens import REFRESH, InvalidToken, claimed_user_id

BAD_CREDENTIALS = "No active account found with the given credentials."


# Users ------------------------------------------------------------------------------


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    others = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.exists()


def user_register(*, username: str, email: str, password: str) -> User:
    """Create an account; duplicate names or emails (any case) and weak passwords are refused."""
    username = username.strip()
    email = User.objects.normalize_email(email.strip())
    errors: dict[str, list[str]] = {}
    try:
        ASCIIUsernameValidator()(username)
    except DjangoValidationError as exc:
        errors["username"] = list(exc.messages)
    else:  # only an ASCII name is compared: the database's case folding matches look-alikes
        if User.objects.filter(username__iexact=username).exists():
            errors["username"] = ["A user with that username already exists."]
    if _email_taken(email):
        errors["email"] = ["A user with that email already exists."]
    try:
        validate_password(password, user=User(username=username, email=email))
    except DjangoValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError:
        # Lost a race with an identical registration: the unique constraints decided.
        raise ValidationError(
            {"username": ["A user with that username or email already exists."]}
        ) from None


def user_update_profile(*, user: User, data: dict[str, Any]) -> User:
    """Change a user's own email and names; privilege fields are not accepted here."""
    if "email" in data:
        email = User.objects.normalize_email(data["email"].strip())
        if _email_taken(email, exclude_pk=user.pk):
            raise ValidationError({"email": ["A user with that email already exists."]})
        user.email = email
    for field in ("first_name", "last_name"):
        if field in data:
            setattr(user, field, data[field])
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "first_name", "last_name"])
    except IntegrityError:
        raise ValidationError({"email": ["A user with that email already exists."]}) from None
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


# Sign-in and user tokens ----------------------------------------------------------


def _token_pair_issue(user: User) -> dict[str, str]:
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
    return {"access": tokens.access_token_for(user, now=now), "refresh": refresh.token}


def auth_login(*, request: HttpRequest, username: str, password: str) -> dict[str, str]:
    """A token pair for valid credentials of an active account; 401 otherwise.

    A username that is not ASCII gets the same 401 as a wrong password: it names no
    account (see ``CaseInsensitiveUserManager``), whatever the database's case folding says.
    """
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User):
        raise AuthenticationFailed(BAD_CREDENTIALS)
    update_last_login(User, user)
    return _token_pair_issue(user)


def _refresh_claims(raw: str) -> dict[str, Any]:
    """The claims of a refresh token this service issued and nobody has used up."""
    try:
        claims = tokens.claims_of(raw)
    except InvalidToken:
        raise AuthenticationFailed("Invalid refresh token: Token is invalid") from None
    if claims["token_type"] != REFRESH:
        raise AuthenticationFailed("Invalid refresh token: Token has wrong type")
    if BlacklistedToken.objects.filter(token__jti=claims["jti"]).exists():
        raise AuthenticationFailed("Invalid refresh token: Token is blacklisted")
    return claims


def auth_refresh(*, refresh: str) -> dict[str, str]:
    """Trade a refresh token for a new pair; the old one is dead from now on.

    The outstanding-token row is locked, so two concurrent uses of one refresh
    token cannot both succeed. A deactivated user gets nothing.
    """
    claims = _refresh_claims(refresh)
    with transaction.atomic():
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=claims["jti"]).first()
        if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
            raise AuthenticationFailed("Invalid refresh token: Token is blacklisted")
        user = User.objects.filter(pk=claimed_user_id(claims), is_active=True).first()
        if user is None:
            raise AuthenticationFailed("The account is inactive or does not exist.")
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


def service_client_ensure(*, client_id: str, secret: str, scopes: list[str]) -> ServiceClient:
    """Create or update a service client with this secret and these scopes (idempotent)."""
    unknown = sorted(set(scopes) - set(settings.SERVICE_SCOPES))
    if unknown:
        raise ValidationError({"scopes": [f"Unknown scopes: {', '.join(unknown)}."]})
    if len(secret) < 16:
        raise ValidationError({"secret": ["Use at least 16 characters."]})
    client = ServiceClient.objects.filter(client_id=client_id).first() or ServiceClient(
        client_id=client_id
    )
    if not client.secret_hash or not client.check_secret(secret):
        client.set_secret(secret)
    client.scopes = " ".join(sorted(set(scopes)))
    client.is_active = True
    client.full_clean()
    client.save()
    return client


def service_token_issue(*, client_id: str, client_secret: str) -> dict[str, Any]:
    """A scoped service token for valid client credentials; 401 otherwise."""
    client = ServiceClient.objects.filter(client_id=client_id, is_active=True).first()
    if client is None:
        make_password(client_secret)  # spend the same time as a real check
        raise AuthenticationFailed("Unknown client or wrong secret.")
    if not client.check_secret(client_secret):
        raise AuthenticationFailed("Unknown client or wrong secret.")
    lifetime = settings.SERVICE_TOKEN_LIFETIME
    return {
        "access": tokens.service_token_for(client, now=timezone.now()),
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
        "scope": " ".join(client.scope_list),
    }
