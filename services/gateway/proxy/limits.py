"""Rate limits (shared by every worker), bulkheads (one per upstream, per worker) and
per-client slots on the routes that cost an upstream much (password hashing)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.core.cache import BaseCache

# Every unit DRF's throttle rates document (second, minute, hour, day), and their short forms.
_UNITS = {
    **dict.fromkeys(("s", "sec", "second"), 1),
    **dict.fromkeys(("m", "min", "minute"), 60),
    **dict.fromkeys(("h", "hour"), 3600),
    **dict.fromkeys(("d", "day"), 86400),
}


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``window`` seconds, written ``"20/min"``."""

    limit: int
    window: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """The rate written as DRF's throttles write it (the users service's are).

        Not DRF's ``parse_rate`` itself: it reads the unit's first letter only, so
        ``5/month`` would be five a minute; a unit not known here stops start-up.
        """
        count, _, unit = text.partition("/")
        if unit not in _UNITS:
            raise ValueError(f"rate {text!r}: use <count>/<s|min|hour|day>")
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
    """At most ``size`` calls outstanding to one upstream from one event loop; the next
    is refused at once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.in_use = 0

    def try_enter(self) -> bool:
        if self.in_use >= self.size:
            return False
        self.in_use += 1
        return True

    def leave(self) -> None:
        self.in_use -= 1


class ClientSlots:
    """At most ``per_client`` requests of one client in flight at once; the others wait
    their turn for up to a timeout. Each client queues behind itself, never behind others."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self._clients: dict[str, tuple[asyncio.Semaphore, int]] = {}

    async def acquire(self, client: str, timeout: float) -> bool:
        """Wait for a slot; False if none came within ``timeout`` seconds."""
        semaphore, users = self._clients.get(client) or (asyncio.Semaphore(self.per_client), 0)
        self._clients[client] = (semaphore, users + 1)
        try:
            async with asyncio.timeout(timeout):
                await semaphore.acquire()
        except TimeoutError:
            self._leave(client)
            return False
        except BaseException:
            self._leave(client)
            raise
        return True

    def release(self, client: str) -> None:
        self._clients[client][0].release()
        self._leave(client)

    def _leave(self, client: str) -> None:
        semaphore, users = self._clients[client]
        if users <= 1:
            del self._clients[client]
        else:
            self._clients[client] = (semaphore, users - 1)
