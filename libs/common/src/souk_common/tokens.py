"""Access and service tokens verified statelessly, and the caller they name (:class:`Principal`).

The users service signs tokens with RS256 and publishes its public keys as a
JWK Set. Every other service verifies tokens here, without a user table and
without calling the users service per request:

- the header must say ``alg: RS256`` and name a ``kid`` we know (``none``,
  HS256 -- even "signed" with the public key -- and every other algorithm are
  refused before any signature check), and name no critical extension
  (``crit``: we understand none, RFC 7515 section 4.1.11);
- the signature, ``exp``, ``iss`` and ``aud`` are checked by PyJWT with only
  RS256 allowed; then every claim we read must have the type we read it as
  (dates are numbers a datetime can hold, ``jti`` a string, ``user_id`` a whole
  number), so an odd claim is a refused token, never a crash further on;
- the token must be an access token or a service token: a refresh token is not
  a credential for an API call.

Keys come from the users service's JWKS (fetched with a timeout, cached,
refetched when an unknown ``kid`` appears, at most every few seconds) and/or
from PEM public keys in settings, for offline use. Views receive a
:class:`Principal`: who is calling, whether the token says staff, and which
scopes it holds. Staff privileges are the one thing a token's word is not
enough for: :mod:`souk_common.permissions` confirms them with the users service.
Where keys come from: :mod:`souk_common.jwks`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from souk_common.conf import on_souk_change, souk_settings
from souk_common.jwks import ALGORITHM, CombinedKeySet, JwksKeySet, KeySet, StaticKeySet

logger = logging.getLogger(__name__)

ACCESS = "access"
REFRESH = "refresh"
SERVICE = "service"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "jti", "token_type")
NUMERIC_DATE_CLAIMS = ("exp", "iat", "nbf")
# 9999-12-31T23:59:59Z: a later date does not fit in a datetime (simplejwt makes one of exp).
LATEST_NUMERIC_DATE = 253_402_300_799
# jti is stored by the users service in a column of this width (simplejwt's OutstandingToken).
MAX_JTI_LENGTH = 255
MAX_USER_ID = 2**63 - 1


class InvalidToken(Exception):
    """The token is not one this system issued, or not usable any more."""


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the access or service token says.

    A user (``user_id`` set) or a service (``client_id`` set). Behaves enough
    like a Django user for DRF (``is_authenticated``, ``pk``) without a user
    table.
    """

    user_id: int | None
    username: str
    is_staff: bool
    scopes: frozenset[str]
    client_id: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    is_authenticated = True
    is_anonymous = False

    def __str__(self) -> str:
        """The name the browsable API shows for the caller."""
        return self.username or str(self.client_id or "")

    @property
    def is_service(self) -> bool:
        return self.client_id is not None

    @property
    def pk(self) -> int | str | None:
        return self.user_id if self.client_id is None else self.client_id

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        """Build the principal of a verified token's claims."""
        scopes = frozenset(str(claims.get("scope", "")).split())
        if claims["token_type"] == SERVICE:
            client_id = str(claims.get("sub", ""))
            return cls(None, client_id, False, scopes, client_id=client_id, claims=claims)
        return cls(
            user_id=claimed_user_id(claims),
            username=str(claims.get("username", "")),
            is_staff=bool(claims.get("is_staff", False)),
            scopes=scopes,
            claims=claims,
        )


# Verification ---------------------------------------------------------------------


class TokenVerifier:
    """Checks a token end to end and returns its claims, or raises InvalidToken.

    A token that passed is remembered until it expires (at most ``cache_size``
    of them), so a client's repeated requests cost one RSA verification, not
    one each: the answer could not change before ``exp`` anyway.
    """

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        leeway: float = 0,
        cache_size: int = 10_000,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.cache_size = cache_size
        self._verified: dict[str, dict[str, Any]] = {}

    def remembered(
        self, token: str, *, token_types: Iterable[str] = (ACCESS, SERVICE)
    ) -> dict[str, Any] | None:
        """The claims of a token of one of ``token_types`` that passed before and has not
        expired, else None (then ask :meth:`verify`, which says why).

        Never blocks (no key is fetched), so an event loop may call it.
        """
        claims = self._verified.get(token)
        if claims is None or time.time() > claims["exp"] + self.leeway:
            return None
        return claims if claims.get("token_type") in set(token_types) else None

    def verify(
        self, token: str, *, token_types: Iterable[str] = (ACCESS, SERVICE)
    ) -> dict[str, Any]:
        claims = self._verified.get(token)
        if claims is None or time.time() > claims["exp"] + self.leeway:
            claims = self._verify(token)
            if len(self._verified) >= self.cache_size:
                self._verified.clear()
            self._verified[token] = claims
        if claims.get("token_type") not in set(token_types):
            raise InvalidToken("wrong token type")
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.InvalidTokenError, RecursionError):  # RecursionError: JSON nested too deep
            raise InvalidToken("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unsupported algorithm")
        if "crit" in header:
            raise InvalidToken("unsupported critical header extension")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no key")
        key = self.keys.get(kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(str(exc) or "invalid token") from None
        except (TypeError, OverflowError, RecursionError):  # PyJWT's int() of an odd date claim
            raise InvalidToken("malformed claims") from None
        check_claim_types(claims)
        return claims


def check_claim_types(claims: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidToken` unless each claim we read has the type we read it as.

    Dates (``exp``, ``iat``, ``nbf``) are numbers between 1970 and 9999; ``jti`` and
    ``token_type`` are strings; a user's token (access or refresh) names its user by a
    positive whole number.
    """
    for name in NUMERIC_DATE_CLAIMS:
        if name in claims and not _is_numeric_date(claims[name]):
            raise InvalidToken(f"the {name} claim is not a date")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise InvalidToken("the jti claim is not a token id")
    if not isinstance(claims.get("token_type"), str):
        raise InvalidToken("the token_type claim is not a string")
    if claims["token_type"] in (ACCESS, REFRESH):
        claimed_user_id(claims)


def claimed_user_id(claims: Mapping[str, Any]) -> int:
    """The ``user_id`` a user's token names: a positive whole number, or one written in
    ASCII digits (simplejwt writes it as a string in refresh tokens); else InvalidToken."""
    user_id = claims.get("user_id")
    if isinstance(user_id, str) and user_id.isascii() and user_id.isdigit() and len(user_id) < 20:
        user_id = int(user_id)
    if type(user_id) is not int or not 0 < user_id <= MAX_USER_ID:
        raise InvalidToken("the token names no user")
    return user_id


def _is_numeric_date(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 <= value <= LATEST_NUMERIC_DATE  # also False for NaN


_verifier: TokenVerifier | None = None
_verifier_lock = threading.Lock()


def get_verifier() -> TokenVerifier:
    """The process's verifier, built once from the ``SOUK`` settings."""
    global _verifier
    with _verifier_lock:
        if _verifier is None:
            key_sets: list[KeySet] = []
            if souk_settings.JWT_PUBLIC_KEYS:
                key_sets.append(StaticKeySet(souk_settings.JWT_PUBLIC_KEYS))
            if souk_settings.JWT_JWKS_URL:
                key_sets.append(
                    JwksKeySet(
                        souk_settings.JWT_JWKS_URL,
                        timeout=souk_settings.JWKS_TIMEOUT,
                        cache_seconds=souk_settings.JWKS_CACHE_SECONDS,
                        min_refresh_seconds=souk_settings.JWKS_MIN_REFRESH_SECONDS,
                    )
                )
            _verifier = TokenVerifier(
                CombinedKeySet(key_sets),
                issuer=souk_settings.JWT_ISSUER,
                audience=souk_settings.JWT_AUDIENCE,
                leeway=souk_settings.JWT_LEEWAY,
            )
        return _verifier


def reset_verifier() -> None:
    """Forget the verifier (and its cached keys), e.g. after settings change."""
    global _verifier
    with _verifier_lock:
        _verifier = None


on_souk_change(reset_verifier)
