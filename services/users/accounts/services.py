"""Writes of the accounts app: registration, profiles, sign-in, tokens, service clients."""

from __future__ import annotations

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
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import ServiceClient, User
from accounts.tokens import RefreshToken, service_token_for, token_pair_for

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


def auth_login(*, request: HttpRequest, username: str, password: str) -> dict[str, str]:
    """A token pair for valid credentials of an active account; 401 otherwise.

    A username that is not ASCII gets the same 401 as a wrong password: it names no
    account (see ``CaseInsensitiveUserManager``), whatever the database's case folding says.
    """
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User):
        raise AuthenticationFailed(BAD_CREDENTIALS)
    update_last_login(User, user)
    return token_pair_for(user)


def _valid_refresh_token(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]  # simplejwt accepts the string
    except TokenError as exc:
        raise AuthenticationFailed(f"Invalid refresh token: {exc}") from None


def auth_refresh(*, refresh: str) -> dict[str, str]:
    """Trade a refresh token for a new pair; the old one is dead from now on.

    The outstanding-token row is locked, so two concurrent uses of one refresh
    token cannot both succeed. A deactivated user gets nothing.
    """
    token = _valid_refresh_token(refresh)
    with transaction.atomic():
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=token["jti"]).first()
        if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
            raise AuthenticationFailed("Invalid refresh token: Token is blacklisted")
        user = User.objects.filter(pk=token.get("user_id"), is_active=True).first()
        if user is None:
            raise AuthenticationFailed("The account is inactive or does not exist.")
        BlacklistedToken.objects.create(token=outstanding)
        return token_pair_for(user)


def auth_logout(*, refresh: str) -> None:
    """Kill a refresh token (the access token it came with expires on its own)."""
    token = _valid_refresh_token(refresh)
    token.blacklist()


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
    return service_token_for(client)
