"""Where the public keys that verify tokens come from: the users service's JWK Set
(fetched with a timeout, cached, refetched for an unknown ``kid`` at most every few
seconds; a failed fetch keeps the keys already known) and/or PEM keys given offline."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from cryptography.hazmat.primitives.asymmetric import rsa

from souk_common.clients import ServiceClient
from souk_common.errors import UpstreamError
from souk_common.keys import PublicKey

logger = logging.getLogger(__name__)

ALGORITHM = "RS256"


class InvalidKeySet(Exception):
    """A JWK Set answer that cannot be used."""


class KeySet:
    """Public keys by key id."""

    def get(self, kid: str) -> rsa.RSAPublicKey | None:
        raise NotImplementedError


class StaticKeySet(KeySet):
    """Keys given as PEM (public keys, or private keys whose public half is used)."""

    def __init__(self, pems: Iterable[str]) -> None:
        loaded = [PublicKey.from_pem(pem) for pem in pems if pem.strip()]
        self._keys = {key.kid: key.key for key in loaded}

    def get(self, kid: str) -> rsa.RSAPublicKey | None:
        return self._keys.get(kid)


class JwksKeySet(KeySet):
    """Keys from a JWK Set URL: cached, refetched when stale or when a kid is unknown.

    A failed fetch keeps the keys already known, so a users service restart
    does not log everyone out of the other services.

    Not PyJWT's ``PyJWKClient``, which refetches for every unknown kid (tokens with
    random kids would make each service hammer the users service), forgets its keys
    when a fetch fails, takes an entry's ``kid`` on its word, and lets every thread
    on a cold cache fetch at once (docs/decisions.md).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 2.0,
        cache_seconds: float = 300.0,
        min_refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = ServiceClient(
            "users", url, connect_timeout=timeout, read_timeout=timeout, retries=0
        )
        self._cache_seconds = cache_seconds
        self._min_refresh_seconds = min_refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._fetched_at: float | None = None

    def get(self, kid: str) -> rsa.RSAPublicKey | None:
        with self._lock:
            now = self._clock()
            age = None if self._fetched_at is None else now - self._fetched_at
            stale = age is None or age >= self._cache_seconds
            unknown = age is not None and kid not in self._keys and age >= self._min_refresh_seconds
            if stale or unknown:
                self._refresh(now)
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        self._fetched_at = now
        try:
            response = self._client.get("")
            if response.status != 200:
                raise InvalidKeySet(f"JWKS answered {response.status}")
            keys = {}
            for jwk in response.json()["keys"]:
                if jwk.get("kty") == "RSA" and jwk.get("alg", ALGORITHM) == ALGORITHM:
                    key = PublicKey.from_jwk(jwk)
                    keys[key.kid] = key.key
        except (UpstreamError, InvalidKeySet, ValueError, KeyError, TypeError) as exc:
            logger.warning("could not refresh the JWK Set: %s", exc)
            return
        self._keys = keys


class CombinedKeySet(KeySet):
    """The first key set that knows a kid wins."""

    def __init__(self, key_sets: Sequence[KeySet]) -> None:
        self._key_sets = list(key_sets)

    def get(self, kid: str) -> rsa.RSAPublicKey | None:
        for key_set in self._key_sets:
            key = key_set.get(kid)
            if key is not None:
                return key
        return None
