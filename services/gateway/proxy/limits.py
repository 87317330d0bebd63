"""Rate limits (shared by every worker) and bulkheads (one per upstream, per worker)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.core.cache import BaseCache

_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``window`` seconds, written ``"20/min"``."""

    limit: int
    window: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        count, _, unit = text.partition("/")
        if unit not in _UNITS:
            raise ValueError(f"rate {text!r}: use <count>/<s|min|hour>")
        return cls(int(count), _UNITS[unit])


class RateLimiter:
    """Fixed-window counters in Django's cache, so every worker process counts together.

    With Redis (``REDIS_URL``) each count is one atomic ``INCR``; with the
    database cache it is a read and a write, which may let a few requests too
    many through under heavy concurrency, never too few.
    """

    def __init__(
        self,
        cache: BaseCache,
        classes: Mapping[str, Mapping[str, str]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cache = cache
        self.classes = {
            name: {identity: Rate.parse(rate) for identity, rate in rates.items()}
            for name, rates in classes.items()
        }
        self.clock = clock

    def retry_after(self, rate_class: str, identities: Mapping[str, str]) -> int | None:
        """Count this request against each identity (``address``, ``user``) of the class;
        seconds until the window resets if one is over its limit, else None."""
        now = self.clock()
        for identity, rate in self.classes.get(rate_class, {}).items():
            ident = identities.get(identity)
            if not ident:
                continue
            window = int(now // rate.window)
            key = f"gw:rl:{rate_class}:{identity}:{ident}:{window}"
            if self._count(key, rate.window) > rate.limit:
                return max(1, math.ceil((window + 1) * rate.window - now))
        return None

    def _count(self, key: str, timeout: int) -> int:
        try:
            return int(self.cache.incr(key))
        except ValueError:  # first hit in this window
            if self.cache.add(key, 1, timeout + 1):
                return 1
            return int(self.cache.incr(key))


class Bulkhead:
    """At most ``size`` calls outstanding to one upstream; the next is refused at once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(size)

    def try_enter(self) -> bool:
        return self._slots.acquire(blocking=False)

    def leave(self) -> None:
        self._slots.release()
