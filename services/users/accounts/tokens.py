"""The tokens this service signs: RS256, ``iss`` and ``aud`` set, the signing key named by
``kid`` in the header.

An access token names a user and what other services need to know of them; a refresh
token renews a pair (``services`` records each one issued and blacklists it once used or
revoked, in simplejwt's ``token_blacklist`` tables); a service token names another
service and its scopes. Tokens are verified as every service verifies them
(:mod:`souk_common.tokens`), with the keys published here: the current one and those of a
rotation under way, so keys can rotate without logging anyone out.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from django.conf import settings
from django.core.signals import setting_changed

from accounts.models import ServiceClient, User
from souk_common.jwks import ALGORITHM
from souk_common.keys import PublicKey, SigningKey
from souk_common.tokens import ACCESS, REFRESH, SERVICE, get_verifier


@dataclass(frozen=True)
class RefreshToken:
    """A signed refresh token, and what the record of it keeps."""

    token: str
    jti: str
    expires_at: datetime


@functools.cache
def _signing_key() -> SigningKey:
    return SigningKey.from_pem(settings.JWT_SIGNING_KEY)


def _forget_signing_key(*, setting: str, **kwargs: Any) -> None:
    if setting == "JWT_SIGNING_KEY":
        _signing_key.cache_clear()


setting_changed.connect(_forget_signing_key)


def _signed(claims: Mapping[str, Any]) -> str:
    key = _signing_key()
    return jwt.encode(
        {**claims, "aud": settings.JWT_AUDIENCE, "iss": settings.JWT_ISSUER},
        key.key,
        algorithm=ALGORITHM,
        headers={"kid": key.kid},
    )


def _timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


def refresh_token_for(user: User, *, now: datetime) -> RefreshToken:
    """A refresh token for ``user``, issued at ``now``."""
    expires = _timestamp(now + settings.REFRESH_TOKEN_LIFETIME)
    jti = uuid.uuid4().hex
    claims = {
        "token_type": REFRESH,
        "exp": expires,
        "iat": _timestamp(now),
        "jti": jti,
        "user_id": str(user.pk),  # a string, as in the refresh tokens simplejwt issued
    }
    return RefreshToken(_signed(claims), jti, datetime.fromtimestamp(expires, tz=UTC))


def access_token_for(user: User, *, now: datetime) -> str:
    """An access token naming ``user`` as they are now, issued at ``now``."""
    return _signed(
        {
            "token_type": ACCESS,
            "exp": _timestamp(now + settings.ACCESS_TOKEN_LIFETIME),
            "iat": _timestamp(now),
            "jti": uuid.uuid4().hex,
            "user_id": user.pk,
            "username": user.username,
            "is_staff": user.is_staff,
        }
    )


def service_token_for(client: ServiceClient, *, now: datetime) -> str:
    """A short-lived token naming a service and what it may do."""
    return _signed(
        {
            "token_type": SERVICE,
            "sub": client.client_id,
            "scope": " ".join(client.scope_list),
            "iat": _timestamp(now),
            "exp": _timestamp(now + settings.SERVICE_TOKEN_LIFETIME),
            "jti": uuid.uuid4().hex,
        }
    )


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a token this service signed (access, refresh or service), checked
    end to end; :class:`souk_common.tokens.InvalidToken` otherwise."""
    return get_verifier().verify(token, token_types=(ACCESS, REFRESH, SERVICE))


def published_public_keys() -> list[str]:
    """The current public key and those still accepted after a rotation, as PEM."""
    return [_signing_key().public.to_pem(), *settings.JWT_PREVIOUS_PUBLIC_KEYS]


def jwks() -> dict[str, Any]:
    """The JWK Set this service publishes."""
    return {"keys": [PublicKey.from_pem(pem).to_jwk() for pem in published_public_keys()]}
