"""The gateway's public ASGI application: the proxy on the hot path, Django for a few pages.

A request under a route prefix never enters Django: check the Host, match the
route, check the path, method, body size, token and rate limits, take a
per-client slot where the route has them, pass the circuit breaker and the
bulkhead, forward over a pooled keep-alive connection, stream the answer back.
Everything that can be built once (pools, breakers, header sets, the route
table) is built at start-up; nothing on the hot path blocks the event loop
(token checks that may fetch keys and rate-limit counts run on threads).

``/health`` and ``/api/schema/`` answer from what :class:`~proxy.watch.UpstreamWatch`
keeps fresh in the background, and ``/`` redirects to the storefront
(``STOREFRONT_URL``) or, without one, to ``/api/docs/``. Django serves only
``/health/live``, ``/health/ready``, ``/api/docs/`` and its static files here; the
admin is on the admin listener (``gateway_service.wsgi``), never on this one.

Browsers' cross-origin requests are decided here for every answer (proxy/cors.py):
preflights answered without an upstream, the allowed origin named on the rest.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.http.request import split_domain_port, validate_host

from proxy import metrics
from proxy.cors import CorsPolicy
from proxy.headers import UnsafeHeader, request_headers, response_headers
from proxy.limits import Bulkhead, ClientSlots, RateLimiter
from proxy.paths import checked_target
from proxy.routes import Route, RouteTableHolder
from proxy.watch import UpstreamWatch
from souk_common import tracing
from souk_common.breaker import CircuitBreaker
from souk_common.db import release_database_connection
from souk_common.errors import ErrorCode, UpstreamUnavailable, error_body
from souk_common.events.envelope import new_traceparent
from souk_common.httpclient import AsyncPool, AsyncResponse, TimedOut, UpstreamFailure
from souk_common.logging import request_id_var, traceparent_var
from souk_common.metrics import METHODS, forget_dead_processes, labelled
from souk_common.middleware import safe_request_id, valid_traceparent
from souk_common.network import client_address_after_hops
from souk_common.tokens import InvalidToken, Principal, get_verifier

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("souk.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # Django's handler types its arguments its own way

#: The public listener's own pages: each is its own route in the metrics.
OWN_PAGES = frozenset({"/", "/health", "/api/schema/"})
# Host headers remembered as allowed, at most (a wildcard in ALLOWED_HOSTS allows any number).
KNOWN_HOSTS = 64
# Answers up to this size are read whole, so a broken one becomes a clean 502.
SMALL_BODY = 256 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NO_BODY_STATUSES = frozenset({204, 304})
JSON = (b"content-type", b"application/json")


class Refusal(Exception):
    """A request the gateway answers itself, in the error envelope.

    ``close`` ends the connection after the answer: the request's body, if it
    announced one, was not read, and no byte of it may be taken for a request.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        close: bool = False,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.close = close


class ClientGone(Exception):
    """The client went away (or its request was cut off by the server) mid-request."""


def not_found() -> Refusal:
    return Refusal(404, ErrorCode.NOT_FOUND, "Not found.")


class Gateway:
    """Callable as ASGI: ``application = Gateway(get_asgi_application())``."""

    def __init__(self, django_app: ASGIApp) -> None:
        self.django_app = django_app
        self.django_paths = ("/health/live", "/health/ready", "/api/docs/")
        self.static_prefix = "/" + str(settings.STATIC_URL).lstrip("/")
        self.allowed_hosts = list(settings.ALLOWED_HOSTS)
        # Host headers found allowed, so the next request naming one is not checked again.
        self.hosts_allowed: dict[bytes, str] = {}
        self.routes = RouteTableHolder(settings.GATEWAY_ROUTES_REFRESH_SECONDS)
        self.pools = {
            name: AsyncPool.from_url(url, settings.GATEWAY_BULKHEAD_SIZE)
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
        self.client_slots: dict[str, ClientSlots] = {}
        self.limiter = (
            RateLimiter(caches["default"], settings.GATEWAY_RATE_LIMITS)
            if settings.GATEWAY_RATE_LIMIT_ENABLED
            else None
        )
        # The pages served from memory are limited in memory, per worker: counting them in
        # the shared store would cost more than answering them.
        self.pages_limiter = RateLimiter(
            LocMemCache("gateway-pages", {"OPTIONS": {"MAX_ENTRIES": 100_000}}),
            {"pages": settings.GATEWAY_PAGES_RATE_LIMIT},
        )
        self.trusted_hops = settings.GATEWAY_TRUSTED_PROXY_COUNT
        self.frontend_secret = settings.GATEWAY_FRONTEND_SECRET.encode()
        self.cors = CorsPolicy(settings.GATEWAY_CORS_ORIGINS, max_age=settings.GATEWAY_CORS_MAX_AGE)
        # STOREFRONT_URL comes from souk_common.settings.service_settings.
        storefront = str(getattr(settings, "STOREFRONT_URL", ""))
        self.site_root = (storefront or "/api/docs/").encode("latin-1")
        self.proxy_secret = settings.GATEWAY_PROXY_SECRET
        self.watch = UpstreamWatch(
            settings.GATEWAY_UPSTREAMS,
            lambda: self.routes.table,
            health_interval=settings.GATEWAY_HEALTH_INTERVAL,
            health_timeout=settings.GATEWAY_HEALTH_TIMEOUT,
            schema_interval=settings.GATEWAY_SCHEMA_REFRESH_SECONDS,
        )
        # Work that may block (a token check fetching keys, a rate-limit count in the
        # shared store) runs here, never on the event loop.
        self.blocking = ThreadPoolExecutor(
            settings.GATEWAY_BLOCKING_THREADS, thread_name_prefix="gateway-blocking"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    # Start and stop ----------------------------------------------------------------

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    # A worker that died left its gauges (calls in flight, breakers).
                    forget_dead_processes()
                    await self.run_blocking(self.routes.start)
                    await self.watch.start()
                except Exception as exc:
                    logger.exception("the gateway could not start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.watch.stop()
                for pool in self.pools.values():
                    pool.close()
                self.blocking.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def run_blocking(self, function: Callable[..., Any], *args: Any) -> Any:
        # The request's context goes along: the thread's log lines carry its request and
        # trace ids, and its work (a Redis count) joins the request's span while tracing.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self.blocking, functools.partial(context.run, function, *args)
        )

    # Every request -----------------------------------------------------------------

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The client's trace, or a new one: every service and event of the request joins it.
        incoming = valid_traceparent(_header(scope, b"traceparent"))
        if tracing.enabled() and scope["path"].startswith("/api/"):
            await self.http_traced(scope, receive, send, incoming)
            return
        trace_token = traceparent_var.set(incoming or new_traceparent())
        try:
            await self.answer(scope, receive, send)
        finally:
            traceparent_var.reset(trace_token)

    async def http_traced(self, scope: Scope, receive: Receive, send: Send, incoming: str) -> None:
        """A request to the API while tracing: a span of the client's trace (or of a new
        one), named for its route once matched. The gateway's own pages (its probes) are
        answered untraced."""
        method = scope["method"] if scope["method"] in METHODS else "other"
        with tracing.span(method, kind="server", parent=incoming) as span:
            assert span is not None
            trace_token = traceparent_var.set(tracing.span_traceparent())
            try:
                answer = await self.answer(scope, receive, send)
            finally:
                traceparent_var.reset(trace_token)
            span.update_name(f"{method} {answer.route}")
            span.set_attribute("http.route", answer.route)
            if answer.status:  # 0: Django answered (the API's docs), straight to the server
                span.set_attribute("http.response.status_code", answer.status)
            if answer.status >= 500:
                tracing.failed(span, f"answered {answer.status}")

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> _Answer:
        """Answer one request, logged and counted; what was answered."""
        request_id = safe_request_id(_header(scope, b"x-request-id"))
        token = request_id_var.set(request_id)
        started = perf_counter()
        answer = _Answer(send, request_id)
        if self.cors.enabled:
            answer.cors = self.cors.answer_headers(_header(scope, b"origin"))
        try:
            try:
                await self.respond(scope, receive, answer)
            except Refusal as refusal:
                await answer.refusal(refusal)
            except ClientGone:
                answer.status = 499  # nobody to answer (the log says so)
            except Exception:
                if answer.started:
                    raise  # the server closes the connection: the client sees a cut answer
                logger.exception("the gateway failed on %s", scope.get("path"))
                await answer.refusal(
                    Refusal(500, ErrorCode.INTERNAL_ERROR, "Internal server error.", close=True)
                )
            if answer.status:
                self.log(scope, answer.status, started)
                seconds = perf_counter() - started
                route, status = answer.route, str(answer.status)
                labelled(metrics.REQUESTS, route, scope["method"], status).inc()
                labelled(metrics.LATENCY, route).observe(seconds)
        finally:
            request_id_var.reset(token)
        return answer

    async def respond(self, scope: Scope, receive: Receive, answer: _Answer) -> None:
        host = self.checked_host(scope)
        path: str = scope["path"]
        if path in OWN_PAGES:
            answer.route = path
        if path == "/":
            await self.root_page(scope, answer)
        elif path == "/health":
            await self.health_page(scope, answer)
        elif path == "/api/schema/":
            await self.schema_page(scope, answer)
        elif path.startswith(self.django_paths) or path.startswith(self.static_prefix):
            answer.route = "<django>"
            await self.django_app(scope, receive, answer.send)
        elif path.startswith("/api/"):
            await self.forward(scope, receive, answer, host)
        else:
            raise not_found()

    def checked_host(self, scope: Scope) -> str:
        """The one Host header, if it names a host in ALLOWED_HOSTS; else 400 and close."""
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        if len(hosts) == 1:
            known = self.hosts_allowed.get(hosts[0])
            if known is not None:
                return known
            host = hosts[0].decode("latin-1")
            domain, _ = split_domain_port(host)
            if domain and validate_host(domain, self.allowed_hosts):
                if len(self.hosts_allowed) < KNOWN_HOSTS:
                    self.hosts_allowed[hosts[0]] = host
                return host
        raise Refusal(
            400,
            ErrorCode.VALIDATION_ERROR,
            "The Host header is missing, repeated or not a host this service answers to.",
            close=True,
        )

    # The gateway's own pages ---------------------------------------------------------

    async def root_page(self, scope: Scope, answer: _Answer) -> None:
        """``/``: to the storefront, or to the API's docs (never a 404)."""
        self.limit_page(scope)
        await answer.whole(302, [(b"location", self.site_root)], b"")

    async def health_page(self, scope: Scope, answer: _Answer) -> None:
        """200 ``ok`` when every upstream was ready at its last check, else 503 ``degraded``."""
        self.limit_page(scope)
        ok, services = self.watch.health_report()
        payload = json.dumps({"status": "ok" if ok else "degraded", "services": services})
        await answer.whole(200 if ok else 503, [JSON], payload.encode())

    async def schema_page(self, scope: Scope, answer: _Answer) -> None:
        """The public API of every service, as one OpenAPI document."""
        self.limit_page(scope)
        await answer.whole(200, [JSON], self.watch.schema_document())

    def limit_page(self, scope: Scope) -> None:
        _safe_method_only(scope)
        retry_after = self.pages_limiter.retry_after(
            "pages", {"address": self.client_address(scope)}
        )
        if retry_after is not None:
            raise _too_many(retry_after)

    # The hot path ------------------------------------------------------------------

    async def forward(self, scope: Scope, receive: Receive, answer: _Answer, host: str) -> None:
        target = checked_target(scope["path"], scope["raw_path"], scope["query_string"])
        route = self.routes.table.match(target.path) if target else None
        if target is None or route is None:
            raise not_found()
        answer.route = route.prefix
        method: str = scope["method"]
        if method == "OPTIONS" and self.cors.enabled:
            origin = _header(scope, b"origin")
            if self.cors.is_preflight(
                method, origin, _header(scope, b"access-control-request-method")
            ):
                # Answered here: a preflight carries no token, and the upstream has no say.
                allowed = self.cors.preflight_headers(origin, route.methods)
                answer.cors = []
                await answer.whole(204, allowed, b"")
                return
        if method not in route.methods:
            raise Refusal(
                405,
                ErrorCode.METHOD_NOT_ALLOWED,
                f'Method "{method}" not allowed.',
                {"Allow": ", ".join(sorted(route.methods))},
            )
        try:
            headers = request_headers(scope["headers"])
        except UnsafeHeader:
            raise Refusal(400, ErrorCode.VALIDATION_ERROR, "Invalid header value.") from None
        body = await self.read_body(scope, receive, route)
        principal = await self.authenticate(headers.get("authorization", ""), route)
        address = await self.rate_limit(route.rate_limit_class, scope, principal)
        headers["x-request-id"] = request_id_var.get()
        headers["x-forwarded-for"] = address
        headers["x-forwarded-proto"] = self.forwarded_proto(scope)
        headers["x-forwarded-host"] = host
        if self.proxy_secret:
            headers["x-souk-proxy-secret"] = self.proxy_secret
        if body is not None:
            headers["content-length"] = str(len(body))
        slots = self.slots_for(route, method)
        if slots is not None and not await slots.acquire(address, route.read_timeout):
            raise Refusal(
                429,
                ErrorCode.RATE_LIMITED,
                "Too many requests of this kind at once; try again shortly.",
                {"Retry-After": "1"},
            )
        try:
            attributes = {"peer.service": route.upstream, "http.route": route.prefix}
            with tracing.span(f"{method} {route.upstream}", kind="client", attributes=attributes):
                # This call's span as the upstream's parent while tracing, else the trace.
                headers["traceparent"] = tracing.current_traceparent()
                await self.call_upstream(
                    route, method, target.upstream_target, headers, body, answer
                )
        finally:
            if slots is not None:
                slots.release(address)

    async def read_body(self, scope: Scope, receive: Receive, route: Route) -> bytes | None:
        """The request body (None when the request has none), refused with 413 before any
        upstream sees it when too large. The server has checked its framing."""
        length_header = _header(scope, b"content-length")
        chunked = _header(scope, b"transfer-encoding") is not None
        if length_header is None and not chunked:
            return None
        limit = route.max_body_bytes
        too_large = Refusal(
            413,
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"The request body is larger than {limit} bytes.",
            close=True,
        )
        if length_header is not None and int(length_header) > limit:
            raise too_large
        pieces: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            piece = message.get("body", b"")
            size += len(piece)
            if size > limit:
                raise too_large
            pieces.append(piece)
            if not message.get("more_body", False):
                return b"".join(pieces)

    async def authenticate(self, authorization: str, route: Route) -> Principal | None:
        """The caller, if it shows a valid access token; required on some routes.

        The token is forwarded unchanged either way: services check it again.
        """
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        principal = None
        if scheme.lower() == "bearer" and token:
            try:
                # A token seen before is checked on the loop; a new one on a thread, since
                # its key may have to be fetched from the users service.
                verifier = get_verifier()
                claims = verifier.remembered(token)
                if claims is None:
                    claims = await self.run_blocking(verifier.verify, token)
                principal = Principal.from_claims(claims)
            except InvalidToken as exc:
                if route.auth_required:
                    raise _unauthenticated(f"Invalid token: {exc}.") from None
        if route.auth_required and principal is None:
            raise _unauthenticated("Authentication credentials were not provided.")
        return principal

    async def rate_limit(self, rate_class: str, scope: Scope, principal: Principal | None) -> str:
        """Count this request; 429 when over a limit. Returns the client's address."""
        address = self.client_address(scope)
        if self.limiter is None:
            return address
        identities = {"address": address}
        if principal is not None:
            identities["user"] = str(principal.pk)
        try:
            async with asyncio.timeout(settings.GATEWAY_RATE_LIMIT_TIMEOUT):
                retry_after = await self.run_blocking(self._count, rate_class, identities)
        except Exception as exc:  # noqa: BLE001 - the store is down or slow: fail open, loudly
            logger.warning("rate limits not counted (%r): letting the request through", exc)
            retry_after = None
        if retry_after is not None:
            raise _too_many(retry_after)
        return address

    def _count(self, rate_class: str, identities: dict[str, str]) -> int | None:
        assert self.limiter is not None
        try:
            return self.limiter.retry_after(rate_class, identities)
        finally:
            # Outside Django's request cycle nothing gives a pooled connection back.
            release_database_connection()

    def client_address(self, scope: Scope) -> str:
        """Who the client is, for rate limits and upstreams: the connection's peer; the
        address a trusted proxy forwarded (``GATEWAY_TRUSTED_PROXY_COUNT``); or the browser's
        a web front end (the storefront) names with the frontend secret."""
        client = scope.get("client")
        peer = str(client[0]) if client else ""
        hops = self.trusted_hops
        if self.frontend_secret and self.from_frontend(scope):
            hops = 1  # the front end appended its own client's address
        if not hops:
            return peer
        forwarded = ", ".join(
            value.decode("latin-1")
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
        )
        meta = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded}
        return client_address_after_hops(meta, hops)

    def from_frontend(self, scope: Scope) -> bool:
        """Whether the request carries ``X-Souk-Frontend-Secret`` with the right secret."""
        for name, value in scope["headers"]:
            if name == b"x-souk-frontend-secret":
                return hmac.compare_digest(value, self.frontend_secret)
        return False

    def forwarded_proto(self, scope: Scope) -> str:
        if self.trusted_hops:
            proto = _header(scope, b"x-forwarded-proto")
            if proto:
                return proto.split(",")[-1].strip()
        return str(scope.get("scheme", "http"))

    def slots_for(self, route: Route, method: str) -> ClientSlots | None:
        """Per-client slots of a route whose writes cost the upstream much (password hashing)."""
        if not route.client_concurrency or method in SAFE_METHODS:
            return None
        slots = self.client_slots.get(route.prefix)
        if slots is None or slots.per_client != route.client_concurrency:
            slots = self.client_slots[route.prefix] = ClientSlots(route.client_concurrency)
        return slots

    async def call_upstream(
        self,
        route: Route,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes | None,
        answer: _Answer,
    ) -> None:
        bulkhead = self.bulkheads[route.upstream]
        breaker = self.breakers[route.upstream]
        started = perf_counter()
        try:
            with breaker.attempt() as outcome:
                if not bulkhead.try_enter():
                    metrics.UPSTREAM_ERRORS.labels(route.upstream, "bulkhead_full").inc()
                    raise Refusal(
                        503,
                        ErrorCode.UPSTREAM_UNAVAILABLE,
                        f"The {route.upstream} service is too busy; try again shortly.",
                        {"Retry-After": "1"},
                    )
                in_flight = labelled(metrics.BULKHEAD_IN_USE, route.upstream)
                in_flight.inc()
                try:
                    upstream = await self.pools[route.upstream].request(
                        method,
                        target,
                        headers,
                        body,
                        connect_timeout=route.connect_timeout,
                        read_timeout=route.read_timeout,
                    )
                    await self.relay(upstream, method, answer)
                    outcome.succeeded()
                    latency = perf_counter() - started
                    labelled(metrics.UPSTREAM_LATENCY, route.upstream).observe(latency)
                except TimedOut:
                    outcome.timed_out()
                    metrics.UPSTREAM_ERRORS.labels(route.upstream, "timeout").inc()
                    if answer.started:
                        raise
                    raise Refusal(
                        504,
                        ErrorCode.UPSTREAM_TIMEOUT,
                        f"The {route.upstream} service did not answer in time.",
                    ) from None
                except UpstreamFailure as exc:
                    outcome.failed()
                    metrics.UPSTREAM_ERRORS.labels(route.upstream, "failed").inc()
                    logger.warning("%s answered badly: %s", route.upstream, exc)
                    if answer.started:
                        raise
                    raise Refusal(
                        502,
                        ErrorCode.BAD_GATEWAY,
                        f"The {route.upstream} service failed to answer.",
                    ) from None
                finally:
                    bulkhead.leave()
                    in_flight.dec()
        except UpstreamUnavailable as open_circuit:
            metrics.UPSTREAM_ERRORS.labels(route.upstream, "breaker_open").inc()
            raise Refusal(
                503,
                ErrorCode.UPSTREAM_UNAVAILABLE,
                f"The {route.upstream} service is unavailable; try again shortly.",
                {"Retry-After": str(open_circuit.retry_after)},
            ) from None
        finally:
            metrics.breaker_state(route.upstream, breaker.state)

    async def relay(self, upstream: AsyncResponse, method: str, answer: _Answer) -> None:
        """Send the upstream's answer to the client: small ones whole, large ones streamed."""
        headers = response_headers(upstream.headers)
        length = upstream.length
        if method == "HEAD":
            upstream.close()
            if length is not None:
                headers.append((b"content-length", str(length).encode()))
            await answer.whole(upstream.status, headers, b"", length_known=True)
        elif length is not None and length <= SMALL_BODY:
            await answer.whole(upstream.status, headers, await upstream.read())
        else:
            if length is not None:
                headers.append((b"content-length", str(length).encode()))
            await answer.start(upstream.status, headers)
            async for piece in upstream.stream():
                await answer.more(piece)
            await answer.more(b"", done=True)

    # Logs --------------------------------------------------------------------------

    @staticmethod
    def log(scope: Scope, status: int, started: float) -> None:
        level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
        if not access_logger.isEnabledFor(level):
            return
        method, path = scope.get("method"), scope.get("path")
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


class _Answer:
    """The ASGI ``send`` of one request, remembering what was sent."""

    def __init__(self, send: Send, request_id: str) -> None:
        self.send = send
        self.request_id = request_id.encode()
        self.started = False
        self.status = 0
        # What the metrics count it under: a route's prefix, one of the gateway's pages,
        # or "<unmatched>" (one series for every path nobody serves).
        self.route = "<unmatched>"
        # With CORS on: the headers every answer gets (none for an origin not allowed),
        # and "Vary: Origin", since the answer depends on it. None: CORS is off.
        self.cors: list[tuple[bytes, bytes]] | None = None

    async def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.started, self.status = True, status
        headers.append((b"x-request-id", self.request_id))
        if self.cors is not None:
            headers.extend(self.cors)
            _vary_on_origin(headers)
        await self.send({"type": "http.response.start", "status": status, "headers": headers})

    async def more(self, body: bytes, *, done: bool = False) -> None:
        await self.send({"type": "http.response.body", "body": body, "more_body": not done})

    async def whole(
        self,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        *,
        length_known: bool = False,
    ) -> None:
        if not length_known and status not in NO_BODY_STATUSES:
            headers.append((b"content-length", str(len(body)).encode()))
        await self.start(status, headers)
        await self.more(body, done=True)

    async def refusal(self, refusal: Refusal) -> None:
        if self.started:
            return
        payload = json.dumps(error_body(refusal.code, refusal.message)).encode()
        headers = [JSON] + [(k.lower().encode(), v.encode()) for k, v in refusal.headers.items()]
        if refusal.close:
            headers.append((b"connection", b"close"))
        await self.whole(refusal.status, headers, payload)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _vary_on_origin(headers: list[tuple[bytes, bytes]]) -> None:
    """Add ``Origin`` to the answer's ``Vary`` (one header, as the upstream's may be)."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            named = {token.strip() for token in value.lower().split(b",")}
            if not named & {b"origin", b"*"}:
                headers[index] = (name, value + b", Origin")
            return
    headers.append((b"vary", b"Origin"))


def _safe_method_only(scope: Scope) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        raise Refusal(
            405,
            ErrorCode.METHOD_NOT_ALLOWED,
            f'Method "{scope["method"]}" not allowed.',
            {"Allow": "GET, HEAD"},
        )


def _too_many(retry_after: int) -> Refusal:
    return Refusal(
        429,
        ErrorCode.RATE_LIMITED,
        "Too many requests; slow down.",
        {"Retry-After": str(retry_after)},
    )


def _unauthenticated(message: str) -> Refusal:
    return Refusal(
        401, ErrorCode.NOT_AUTHENTICATED, message, {"WWW-Authenticate": 'Bearer realm="souk"'}
    )
