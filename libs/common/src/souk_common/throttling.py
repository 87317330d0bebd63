"""Counting attempts to sign in, in every service.

The users service's sign-in throttles and every service's admin login count
attempts per username. Spellings that name the same account, or look as if
they do, must share one count: otherwise ``LIMIT``, ``limit`` in full-width letters
(U+FF4C...) and ``limit`` would each get a fresh budget for guessing one password.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from django.core.cache import cache


def username_key(username: str) -> str:
    """The key a sign-in attempt with ``username`` is counted under.

    The name is stripped, NFKC-normalised (compatibility forms such as full-width
    letters become plain ones) and case-folded (beyond ASCII: the long s, U+017F, is ``s``), then
    hashed, so a name of any length makes a key every cache backend accepts.
    """
    folded = unicodedata.normalize("NFKC", username.strip()).casefold()
    return hashlib.sha256(folded.encode()).hexdigest()


@dataclass(frozen=True)
class FailureLimit:
    """At most ``limit`` failures per key in ``window_seconds``, counted in the shared cache.

    The window opens at the first failure, so every worker process (and every
    replica, with Redis) sees the same count. ``scope`` keeps counters of different
    limits apart.
    """

    scope: str
    limit: int
    window_seconds: int

    def _key(self, ident: str) -> str:
        return f"souk:failures:{self.scope}:{ident}"

    def reached(self, ident: str) -> bool:
        """True once ``ident`` has failed ``limit`` times in the current window."""
        return int(cache.get(self._key(ident)) or 0) >= self.limit

    def record(self, ident: str) -> None:
        """Count one failure of ``ident``."""
        key = self._key(ident)
        if cache.add(key, 1, timeout=self.window_seconds):
            return
        try:
            cache.incr(key)
        except ValueError:  # the window closed between add() and incr(): a new one opens
            cache.add(key, 1, timeout=self.window_seconds)
