"""Forward a request to its upstream and stream the answer back."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import urllib3
from django.conf import settings
from django.http import HttpRequest, StreamingHttpResponse

from souk_common.errors import BadGateway, UpstreamTimeout
from souk_common.logging import current_request_id

logger = logging.getLogger(__name__)

# RFC 9110 §7.6.1: meaningful for one connection only, never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

_pool = urllib3.PoolManager(num_pools=8, maxsize=32, retries=False)


def _request_headers(request: HttpRequest) -> dict[str, str]:
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() not in HOP_BY_HOP
        and name.lower() not in ("host", "content-length", "x-request-id")
        and not name.lower().startswith("x-forwarded-")
    }
    headers["X-Request-ID"] = current_request_id()
    headers["X-Forwarded-For"] = request.META.get("REMOTE_ADDR", "")
    headers["X-Forwarded-Proto"] = "https" if request.is_secure() else "http"
    headers["X-Forwarded-Host"] = request.get_host()
    return headers


def forward(request: HttpRequest, upstream: str) -> StreamingHttpResponse:
    """Send ``request`` to ``upstream`` (a base URL) and stream its response."""
    url = upstream.rstrip("/") + request.get_full_path()
    body = request.body if request.method not in ("GET", "HEAD") else None
    timeout = urllib3.Timeout(
        connect=settings.GATEWAY_CONNECT_TIMEOUT, read=settings.GATEWAY_READ_TIMEOUT
    )
    try:
        upstream_response = _pool.request(
            request.method or "GET",
            url,
            body=body,
            headers=_request_headers(request),
            timeout=timeout,
            preload_content=False,
            redirect=False,
        )
    except urllib3.exceptions.NewConnectionError as exc:
        # Checked first: urllib3 makes it a subclass of ConnectTimeoutError.
        logger.warning("upstream %s refused: %s", upstream, exc)
        raise BadGateway() from exc
    except urllib3.exceptions.TimeoutError as exc:
        raise UpstreamTimeout() from exc
    except urllib3.exceptions.HTTPError as exc:
        logger.warning("upstream %s failed: %s", upstream, exc)
        raise BadGateway() from exc

    def stream() -> Iterator[bytes]:
        try:
            yield from upstream_response.stream(64 * 1024, decode_content=False)
        finally:
            upstream_response.release_conn()

    response = StreamingHttpResponse(stream(), status=upstream_response.status)
    for name, value in upstream_response.headers.items():
        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
            response[name] = value
    return response
