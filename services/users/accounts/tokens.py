"""The tokens this service issues: RS256, a ``kid`` on each, ``iss`` and ``aud`` checked.

simplejwt handles refresh-token bookkeeping (outstanding tokens, blacklist);
this module gives it a token backend that signs with the current key and
names it in the ``kid`` header, and verifies with any published key, so keys
can rotate without logging anyone out.
"""

from __future__ import annotations

import functools
import uuid
from datetime import timedelta
from typing import Any

import jwt
from django.conf import settings
from django.core.signals import setting_changed
from django.utils import timezone
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken
from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefreshToken

from accounts.models import ServiceClient, User
from souk_common.jwks import ALGORITHM, StaticKeySet
from souk_common.keys import PublicKey, SigningKey
from souk_common.tokens import REFRESH, SERVICE, InvalidToken, TokenVerifier


class SoukTokenBackend(TokenBackend):
    """Signs with the current key (``kid`` in the header); verifies with every published key."""

    def __init__(self) -> None:
        options: dict[str, Any] = settings.SIMPLE_JWT
        super().__init__(
            ALGORITHM,
            options["SIGNING_KEY"],
            options["VERIFYING_KEY"],
            options["AUDIENCE"],
            options["ISSUER"],
            None,
            options.get("LEEWAY", 0),
        )
        self.current_key = SigningKey.from_pem(options["SIGNING_KEY"])
        self.verifier = TokenVerifier(
            StaticKeySet(published_public_keys()),
            issuer=options["ISSUER"],
            audience=options["AUDIENCE"],
            leeway=options.get("LEEWAY", 0),
        )

    def encode(self, payload: dict[str, Any]) -> str:
        claims = {**payload, "aud": self.audience, "iss": self.issuer}
        return jwt.encode(
            claims, self.current_key.key, algorithm=ALGORITHM, headers={"kid": self.current_key.kid}
        )

    def decode(self, token: Any, verify: bool = True) -> dict[str, Any]:
        if not verify:
            return jwt.decode(str(token), options={"verify_signature": False})
        try:
            return self.verifier.verify(str(token), token_types=("access", REFRESH, SERVICE))
        except InvalidToken as exc:
            raise TokenBackendError(str(exc)) from None


@functools.cache
def token_backend() -> SoukTokenBackend:
    return SoukTokenBackend()


def published_public_keys() -> list[str]:
    """The current public key and those still accepted after a rotation, as PEM."""
    options: dict[str, Any] = settings.SIMPLE_JWT
    current = PublicKey.from_pem(options["SIGNING_KEY"]).to_pem()
    return [current, *settings.JWT_PREVIOUS_PUBLIC_KEYS]


def jwks() -> dict[str, Any]:
    """The JWK Set this service publishes."""
    return {"keys": [PublicKey.from_pem(pem).to_jwk() for pem in published_public_keys()]}


def _forget_backend(*, setting: str, **kwargs: Any) -> None:
    if setting in ("SIMPLE_JWT", "JWT_PREVIOUS_PUBLIC_KEYS"):
        token_backend.cache_clear()


setting_changed.connect(_forget_backend)


class AccessToken(SimpleAccessToken):
    @property
    def token_backend(self) -> TokenBackend:
        return token_backend()


class RefreshToken(SimpleRefreshToken):
    access_token_class = AccessToken

    @property
    def token_backend(self) -> TokenBackend:
        return token_backend()


def token_pair_for(user: User) -> dict[str, str]:
    """A new refresh token (recorded as outstanding) and an access token with current claims."""
    refresh = RefreshToken.for_user(user)
    access = refresh.access_token
    access["user_id"] = user.pk
    access["username"] = user.username
    access["is_staff"] = user.is_staff
    return {"access": str(access), "refresh": str(refresh)}


def service_token_for(client: ServiceClient) -> dict[str, Any]:
    """A short-lived token naming a service and what it may do."""
    lifetime: timedelta = settings.SERVICE_TOKEN_LIFETIME
    now = timezone.now()
    token = token_backend().encode(
        {
            "token_type": SERVICE,
            "sub": client.client_id,
            "scope": " ".join(client.scope_list),
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
            "jti": uuid.uuid4().hex,
        }
    )
    return {
        "access": token,
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
        "scope": " ".join(client.scope_list),
    }
