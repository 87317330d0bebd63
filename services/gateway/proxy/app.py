"""The gateway's WSGI application: the proxy on the hot path, Django for everything else.

A request under a route prefix never enters Django: match the route, check the
path, method, body size, token and rate limits, pass the circuit breaker and
the bulkhead, forward over a pooled keep-alive connection, stream the answer
back. Everything that can be built once (pools, breakers, timeouts, header
sets, the route table) is built at start-up; the hot path does no database
query (rate limits use Redis when ``REDIS_URL`` is set). Health, docs, the
schema and the admin are ordinary Django views.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Generator, Iterable, Iterator
from http import HTTPStatus
from time import perf_counter
from typing import Any

from django.conf import settings
from django.core.cache import caches

from proxy.headers import UnsafeHeader, request_headers, response_headers
from proxy.limits import Bulkhead, RateLimiter
from proxy.paths import checked_target
from proxy.routes import Route, RouteTableHolder
from souk_common.auth import InvalidToken, Principal, get_verifier
from souk_common.clients import CircuitBreaker
from souk_common.errors import ErrorCode, UpstreamUnavailable, error_body
from souk_common.httpclient import Pool, Refused, Response, TimedOut, UpstreamFailure
from souk_common.logging import request_id_var
from souk_common.middleware import safe_request_id
from souk_common.network import client_address_after_hops
from souk_common.settings import release_database_connection

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("souk.access")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
# The gateway's own pages under /api/: served by Django, not forwarded.
OWN_PATHS = ("/api/docs/", "/api/schema/")
# Answers up to this size are read whole and the connection freed at once.
SMALL_BODY = 256 * 1024


class Refusal(Exception):
    """A request the gateway answers itself, in the error envelope."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


class UpstreamBody:
    """A streamed upstream answer; closing it frees the bulkhead slot (and a half-read
    connection is closed, not reused)."""

    def __init__(self, response: Response, release: Callable[[], None]) -> None:
        self.response = response
        self._chunks: Generator[bytes, None, None] = response.stream()
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def close(self) -> None:
        try:
            self._chunks.close()
        finally:
            self._release()


class Gateway:
    """Callable as WSGI: ``application = Gateway(get_wsgi_application())``."""

    def __init__(self, django_app: WSGIApp) -> None:
        self.django_app = django_app
        self.routes = RouteTableHolder(settings.GATEWAY_ROUTES_REFRESH_SECONDS)
        self.pools = {
            name: Pool.from_url(url, settings.GATEWAY_BULKHEAD_SIZE)
            for name, url in settings.GATEWAY_UPSTREAMS.items()
        }
        self.breakers = {
            name: CircuitBreaker(
                failure_threshold=settings.GATEWAY_BREAKER_FAILURES,
                reset_timeout=settings.GATEWAY_BREAKER_RESET_SECONDS,
            )
            for name in settings.GATEWAY_UPSTREAMS
        }
        self.bulkheads = {
            name: Bulkhead(settings.GATEWAY_BULKHEAD_SIZE) for name in settings.GATEWAY_UPSTREAMS
        }
        self.limiter = (
            RateLimiter(caches["default"], settings.GATEWAY_RATE_LIMITS)
            if settings.GATEWAY_RATE_LIMIT_ENABLED
            else None
        )
        self.trusted_hops = settings.GATEWAY_TRUSTED_PROXY_COUNT

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if not path.startswith("/api/") or path.startswith(OWN_PATHS):
            return self.django_app(environ, start_response)
        request_id = safe_request_id(environ.get("HTTP_X_REQUEST_ID"))
        token = request_id_var.set(request_id)
        started = perf_counter()
        try:
            try:
                status, headers, body = self.forward(environ, request_id)
            except Refusal as refusal:
                status, headers, body = self.refuse(refusal)
            except Exception:  # a bug must still answer in the envelope, never a traceback
                logger.exception("the proxy failed on %s", environ.get("PATH_INFO"))
                status, headers, body = self.refuse(
                    Refusal(500, ErrorCode.INTERNAL_ERROR, "Internal server error.")
                )
            headers.append(("X-Request-ID", request_id))
            start_response(STATUS_LINES.get(status, f"{status} Unknown"), headers)
            self.log(environ, status, started)
            return body
        finally:
            request_id_var.reset(token)

    # The hot path ------------------------------------------------------------------

    def forward(
        self, environ: dict[str, Any], request_id: str
    ) -> tuple[int, list[tuple[str, str]], Iterable[bytes]]:
        target = checked_target(environ)
        route = self.routes.table.match(target.path) if target else None
        if target is None or route is None:
            raise Refusal(404, ErrorCode.NOT_FOUND, "Not found.")
        method = environ["REQUEST_METHOD"]
        if method not in route.methods:
            raise Refusal(
                405,
                ErrorCode.METHOD_NOT_ALLOWED,
                f'Method "{method}" not allowed.',
                {"Allow": ", ".join(sorted(route.methods))},
            )
        body = self.read_body(environ, route)
        try:
            headers = request_headers(environ)
        except UnsafeHeader:
            raise Refusal(400, ErrorCode.VALIDATION_ERROR, "Invalid header value.") from None
        address = client_address_after_hops(environ, self.trusted_hops)
        principal = self.authenticate(environ, route)
        if self.limiter is not None:
            identities = {"address": address}
            if principal is not None:
                identities["user"] = str(principal.pk)
            try:
                retry_after = self.limiter.retry_after(route.rate_limit_class, identities)
            except Exception as exc:  # noqa: BLE001 - the store is down: fail open, loudly
                logger.warning("rate limits not counted (%s): letting the request through", exc)
                retry_after = None
            finally:
                # Outside Django's request cycle nothing gives a pooled connection back.
                release_database_connection()
            if retry_after is not None:
                raise Refusal(
                    429,
                    ErrorCode.RATE_LIMITED,
                    "Too many requests; slow down.",
                    {"Retry-After": str(retry_after)},
                )
        headers["x-request-id"] = request_id
        headers["x-forwarded-for"] = address
        headers["x-forwarded-proto"] = self.forwarded_proto(environ)
        headers["x-forwarded-host"] = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        if body is not None:
            headers["content-length"] = str(len(body))
        return self.call_upstream(route, method, target.upstream_target, headers, body)

    def read_body(self, environ: dict[str, Any], route: Route) -> bytes | None:
        """The request body, refused with 413 before any upstream sees it when too large."""
        limit = route.max_body_bytes
        too_large = Refusal(
            413, ErrorCode.PAYLOAD_TOO_LARGE, f"The request body is larger than {limit} bytes."
        )
        length_header = environ.get("CONTENT_LENGTH") or ""
        stream = environ["wsgi.input"]
        if length_header:
            try:
                length = int(length_header)
            except ValueError:
                raise Refusal(400, ErrorCode.VALIDATION_ERROR, "Invalid Content-Length.") from None
            if length > limit:
                raise too_large
            return bytes(stream.read(length)) if length else b""
        if "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower():
            data = bytes(stream.read(limit + 1))
            if len(data) > limit:
                raise too_large
            return data
        return None

    def authenticate(self, environ: dict[str, Any], route: Route) -> Principal | None:
        """The caller, if it shows a valid access token; required on some routes.

        The token is forwarded unchanged either way: services check it again.
        """
        authorization = environ.get("HTTP_AUTHORIZATION") or ""
        scheme, _, token = authorization.partition(" ")
        principal = None
        if scheme.lower() == "bearer" and token.strip():
            try:
                principal = Principal.from_claims(get_verifier().verify(token.strip()))
            except InvalidToken as exc:
                if route.auth_required:
                    raise self.unauthenticated(f"Invalid token: {exc}.") from None
        if route.auth_required and principal is None:
            raise self.unauthenticated("Authentication credentials were not provided.")
        return principal

    @staticmethod
    def unauthenticated(message: str) -> Refusal:
        return Refusal(
            401, ErrorCode.NOT_AUTHENTICATED, message, {"WWW-Authenticate": 'Bearer realm="souk"'}
        )

    def forwarded_proto(self, environ: dict[str, Any]) -> str:
        if self.trusted_hops and environ.get("HTTP_X_FORWARDED_PROTO"):
            return str(environ["HTTP_X_FORWARDED_PROTO"]).split(",")[-1].strip()
        return str(environ.get("wsgi.url_scheme", "http"))

    def call_upstream(
        self,
        route: Route,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[int, list[tuple[str, str]], Iterable[bytes]]:
        breaker = self.breakers[route.upstream]
        bulkhead = self.bulkheads[route.upstream]
        try:
            breaker.before_call()
        except UpstreamUnavailable as open_circuit:
            raise Refusal(
                503,
                ErrorCode.UPSTREAM_UNAVAILABLE,
                f"The {route.upstream} service is unavailable; try again shortly.",
                {"Retry-After": str(open_circuit.retry_after)},
            ) from None
        if not bulkhead.try_enter():
            raise Refusal(
                503,
                ErrorCode.UPSTREAM_UNAVAILABLE,
                f"The {route.upstream} service is too busy; try again shortly.",
                {"Retry-After": "1"},
            )
        try:
            response = self.pools[route.upstream].request(
                method,
                target,
                headers,
                body,
                connect_timeout=route.connect_timeout,
                read_timeout=route.read_timeout,
            )
        except UpstreamFailure as exc:
            bulkhead.leave()
            breaker.record_failure()
            raise self.upstream_failure(route, exc) from None
        except BaseException:
            bulkhead.leave()
            raise
        breaker.record_success()
        headers_out = response_headers(response.headers)
        if response.length is not None and response.length <= SMALL_BODY:
            try:
                data = response.read()
            except UpstreamFailure as exc:
                breaker.record_failure()
                raise self.upstream_failure(route, exc) from None
            finally:
                bulkhead.leave()
            return response.status, headers_out, [data]
        return response.status, headers_out, UpstreamBody(response, bulkhead.leave)

    @staticmethod
    def upstream_failure(route: Route, exc: UpstreamFailure) -> Refusal:
        if isinstance(exc, TimedOut):
            return Refusal(
                504,
                ErrorCode.UPSTREAM_TIMEOUT,
                f"The {route.upstream} service did not answer in time.",
            )
        if not isinstance(exc, Refused):
            logger.warning("%s answered badly: %s", route.upstream, exc)
        return Refusal(
            502, ErrorCode.BAD_GATEWAY, f"The {route.upstream} service failed to answer."
        )

    # Answers and logs -------------------------------------------------------------

    @staticmethod
    def refuse(refusal: Refusal) -> tuple[int, list[tuple[str, str]], list[bytes]]:
        payload = json.dumps(error_body(refusal.code, refusal.message)).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            *refusal.headers.items(),
        ]
        return refusal.status, headers, [payload]

    @staticmethod
    def log(environ: dict[str, Any], status: int, started: float) -> None:
        level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
        if not access_logger.isEnabledFor(level):
            return
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        access_logger.log(
            level,
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round((perf_counter() - started) * 1000, 2),
            },
        )
