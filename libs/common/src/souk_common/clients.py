"""ServiceClient: how one service calls another.

Every call has connect and read timeouts, reuses pooled keep-alive
connections, carries the current request id, and fails with a typed
exception the error handler turns into the envelope:

- connection refused or reset   -> :class:`~souk_common.errors.BadGateway` (502)
- no answer in time             -> :class:`~souk_common.errors.UpstreamTimeout` (504)
- circuit open                  -> :class:`~souk_common.errors.UpstreamUnavailable` (503)
- 5xx from the upstream         -> :class:`~souk_common.errors.BadGateway` (502)
- a body that is not JSON       -> :class:`~souk_common.errors.BadGateway` (502), from ``json()``

Only idempotent calls are retried (GET, PUT, DELETE, or a POST the caller
declares idempotent, such as one keyed by a reference), with exponential
backoff, on refused connections and 502/503/504 answers. A circuit breaker per
client (:mod:`souk_common.breaker`) stops calling an upstream that keeps
failing, and lets one probe through after a pause; every call settles its
outcome with it. 4xx answers are returned to the caller, who knows what they mean.

The service token a call carries is fetched before the call enters the breaker:
the token comes from another service, through its own client and breaker, and
its failure says nothing about this upstream.

Calls go over :class:`souk_common.httpclient.Pool` (keep-alive connections, answers
read by llhttp), the one transport: unit tests fake an upstream with a real local
server (:class:`souk_common.testing.FakeService`), never through another path.
"""

from __future__ import annotations

import json as jsonlib
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from souk_common import tracing
from souk_common.breaker import Attempt, CircuitBreaker
from souk_common.errors import BadGateway, UpstreamTimeout, UpstreamUnavailable
from souk_common.httpclient import Pool, TimedOut, UpstreamFailure
from souk_common.logging import current_request_id
from souk_common.metrics import observe_call

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class ServiceResponse:
    """What an upstream answered (status below 500)."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """The body as JSON (None when empty); anything else is the upstream's fault."""
        if not self.content:
            return None
        try:
            return jsonlib.loads(self.content)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested absurdly deep
            raise BadGateway("An upstream service answered something that is not JSON.") from None


class _Retryable(Exception):
    """A failed attempt that another attempt may fix; ``error`` is what the caller gets."""

    def __init__(self, error: BadGateway, reason: str) -> None:
        super().__init__(reason)
        self.error, self.reason = error, reason


class TokenSource(Protocol):
    """Gives the bearer token for a call, and forgets it when the upstream refuses it."""

    def token(self) -> str: ...

    def invalidate(self) -> None: ...


@dataclass
class ServiceClient:
    """A pooled, timed, retrying, circuit-broken HTTP client for one upstream."""

    name: str
    base_url: str
    connect_timeout: float = 1.0
    read_timeout: float = 5.0
    retries: int = 2
    backoff: float = 0.05
    pool_size: int = 16
    auth: TokenSource | None = None
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._path_prefix = urlsplit(self.base_url).path
        self._pool = Pool.from_url(self.base_url, self.pool_size)

    def get(self, path: str, **kwargs: Any) -> ServiceResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ServiceResponse:
        return self.request("POST", path, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        read_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ServiceResponse:
        """Call the upstream; see the module docstring for what fails how.

        ``headers`` are sent with the call besides the client's own (a client that calls
        on behalf of many people, such as a web front end, names each one's token here).
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        attempts = 1 + (self.retries if idempotent else 0)
        reauthenticated = False
        attempt = 0
        while True:
            attempt += 1
            token = self.auth.token() if self.auth is not None else None
            try:
                response = self._call_once(method, path, json, params, read_timeout, token, headers)
            except _Retryable as retryable:
                if attempt < attempts:
                    self._sleep(attempt)
                    continue
                logger.warning("%s %s %s: %s", self.name, method, path, retryable.reason)
                raise retryable.error from None
            if response.status == 401 and self.auth is not None and not reauthenticated:
                # A refused token was not acted on, so sending again is safe for any method.
                reauthenticated = True
                self.auth.invalidate()
                attempt -= 1
                continue
            return response

    def _call_once(
        self,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, str] | None,
        read_timeout: float | None,
        token: str | None,
        headers: Mapping[str, str] | None,
    ) -> ServiceResponse:
        """One call, through the breaker, which learns how it went (and the metrics)."""
        started = time.perf_counter()
        try:
            with self.breaker.attempt() as outcome:
                return self._settled(
                    outcome, started, method, path, json, params, read_timeout, token, headers
                )
        except UpstreamUnavailable:  # the breaker is open: nothing was sent
            observe_call(self.name, method, "breaker_open", 0.0)
            raise

    def _settled(
        self,
        outcome: Attempt,
        started: float,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, str] | None,
        read_timeout: float | None,
        token: str | None,
        headers: Mapping[str, str] | None,
    ) -> ServiceResponse:
        """Send the call, and tell the breaker (``outcome``) and the metrics how it went."""
        try:
            response = self._send(method, path, json, params, read_timeout, token, headers)
        except TimedOut as exc:
            # Not retried: the upstream may be working on it, and waiting again
            # would double the caller's wait. Idempotent callers may call again.
            outcome.timed_out()
            observe_call(self.name, method, "timeout", time.perf_counter() - started)
            logger.warning("%s %s %s: timed out (%s)", self.name, method, path, exc)
            raise UpstreamTimeout(f"The {self.name} service did not answer in time.") from exc
        except UpstreamFailure as exc:  # refused, reset, or not HTTP
            outcome.failed()
            observe_call(self.name, method, "failed", time.perf_counter() - started)
            error = BadGateway(f"The {self.name} service could not be reached.")
            raise _Retryable(error, f"connection failed ({exc})") from exc
        observe_call(self.name, method, str(response.status), time.perf_counter() - started)
        if response.status >= 500:
            outcome.failed()
            error = BadGateway(f"The {self.name} service failed ({response.status}).")
            if response.status in RETRYABLE_STATUSES:
                raise _Retryable(error, f"answered {response.status}")
            logger.warning("%s %s %s: answered %s", self.name, method, path, response.status)
            raise error
        outcome.succeeded()
        return response

    def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, str] | None,
        read_timeout: float | None,
        token: str | None,
        extra_headers: Mapping[str, str] | None,
    ) -> ServiceResponse:
        headers = {
            **(extra_headers or {}),
            "X-Request-ID": current_request_id(),
            "Accept": "application/json",
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = b""
        if json is not None:
            body = jsonlib.dumps(json).encode()
            headers["Content-Type"] = "application/json"
        target = self._path_prefix + path + (f"?{urlencode(params)}" if params else "")
        headers["Content-Length"] = str(len(body))
        attributes = {"http.request.method": method, "peer.service": self.name, "url.path": path}
        with tracing.span(f"{method} {self.name}", kind="client", attributes=attributes) as span:
            # The trace of the request or event this call is made for: this call's span
            # as the upstream's parent while tracing, else the traceparent it came with.
            traceparent = tracing.current_traceparent()
            if traceparent:
                headers["traceparent"] = traceparent
            answer = self._pool.request(
                method,
                target or "/",
                headers,
                body,
                connect_timeout=self.connect_timeout,
                read_timeout=read_timeout or self.read_timeout,
            )
            if span is not None:
                span.set_attribute("http.response.status_code", answer.status)
                if answer.status >= 500:
                    tracing.failed(span, f"answered {answer.status}")
        return ServiceResponse(answer.status, dict(answer.headers), answer.body)

    def _sleep(self, attempt: int) -> None:
        delay = self.backoff * (2 ** (attempt - 1))
        time.sleep(delay + random.uniform(0, delay))  # noqa: S311 - jitter, not crypto


class ServiceTokenProvider:
    """Service tokens from the users service, cached until shortly before they expire.

    ``ServiceClient`` asks it for a token on every call and calls
    :meth:`invalidate` when an upstream answers 401, so the next call fetches
    a fresh one (once).
    """

    def __init__(
        self,
        client: ServiceClient,
        *,
        client_id: str,
        client_secret: str,
        path: str = "/internal/auth/token/",
        refresh_margin: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._path = path
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token = ""
        self._expires_at = 0.0

    def token(self) -> str:
        with self._lock:
            if not self._token or self._clock() >= self._expires_at:
                self._fetch()
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = ""

    def _fetch(self) -> None:
        response = self._client.post(self._path, json=self._credentials, idempotent=True)
        if response.status != 200:
            raise BadGateway(
                f"The {self._client.name} service refused this service's credentials "
                f"({response.status})."
            )
        body = response.json()
        self._token = str(body["access"])
        lifetime = float(body["expires_in"])
        self._expires_at = self._clock() + max(lifetime - self._refresh_margin, lifetime / 2)
