"""A circuit breaker per upstream: stop calling a service that is down, probe it now and then.

Closed -> open after ``failure_threshold`` failures in a row -> half-open once
``reset_timeout`` seconds have passed, where one probe call decides: success
closes it, failure opens it again.

Every call goes through :meth:`CircuitBreaker.attempt`, which always settles
an outcome, whatever happens inside::

    with breaker.attempt() as attempt:    # UpstreamUnavailable while open
        answer = send()                   # anything raised here settles "no verdict"
        attempt.succeeded()               # or attempt.failed() / attempt.timed_out()

A call that ends without a verdict (the caller gave up, a bug, an error that
says nothing about the upstream) changes no count, but a probe slot it held is
freed: a breaker can never stay open because its probe was lost.

A timeout counts as a failure only if the upstream answered no other call
while this one waited. An upstream that is answering others is alive, just
slow on this request (a password hash under a burst of sign-ups, say); a hung
one answers nobody.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

from souk_common.errors import UpstreamUnavailable


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Attempt:
    """One call's verdict, given by the caller inside :meth:`CircuitBreaker.attempt`."""

    __slots__ = ("is_probe", "started", "timeout", "verdict")

    def __init__(self, *, is_probe: bool, started: float) -> None:
        self.is_probe = is_probe
        self.started = started
        self.verdict: bool | None = None  # True: success, False: failure, None: no verdict
        self.timeout = False

    def succeeded(self) -> None:
        """The upstream answered (any status below 500)."""
        self.verdict = True

    def failed(self) -> None:
        """The upstream refused, reset, answered nonsense or a 5xx."""
        self.verdict = False

    def timed_out(self) -> None:
        """No answer in time: a failure unless the upstream answered someone meanwhile
        (decided by the breaker when the attempt settles)."""
        self.verdict = False
        self.timeout = True


class CircuitBreaker:
    """Thread-safe; one per upstream per process."""

    CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._last_success = float("-inf")
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            waited = self._clock() - self._opened_at
            if self._state == BreakerState.OPEN and waited >= self.reset_timeout:
                return BreakerState.HALF_OPEN
            return self._state

    @contextmanager
    def attempt(self) -> Iterator[Attempt]:
        """Let one call through, or raise :class:`UpstreamUnavailable`; settle it on exit."""
        attempt = self._enter()
        try:
            yield attempt
        finally:
            self._settle(attempt)

    def _enter(self) -> Attempt:
        with self._lock:
            now = self._clock()
            if self._state == BreakerState.CLOSED:
                return Attempt(is_probe=False, started=now)
            waited = now - self._opened_at
            if self._state == BreakerState.OPEN and waited >= self.reset_timeout:
                self._state = BreakerState.HALF_OPEN
                self._probe_in_flight = False
            if self._state == BreakerState.HALF_OPEN and not self._probe_in_flight:
                self._probe_in_flight = True
                return Attempt(is_probe=True, started=now)
            retry_after = max(self.reset_timeout - waited, 1.0)
        raise UpstreamUnavailable(retry_after=retry_after)

    def _settle(self, attempt: Attempt) -> None:
        with self._lock:
            now = self._clock()
            verdict = attempt.verdict
            if verdict is False and attempt.timeout and self._last_success > attempt.started:
                verdict = None  # it answered others meanwhile: slow, not down
            if verdict is True:
                self._state = BreakerState.CLOSED
                self._failures = 0
                self._last_success = now
            elif verdict is False:
                self._failures += 1
                if attempt.is_probe or self._failures >= self.failure_threshold:
                    self._state = BreakerState.OPEN
                    self._opened_at = now
            if attempt.is_probe:
                self._probe_in_flight = False
