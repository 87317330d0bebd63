"""Gateway views: the proxy itself and the aggregated health."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from proxy.forwarding import forward
from proxy.health import upstreams_health
from souk_common.errors import UpstreamError, error_response


@csrf_exempt
def proxy(request: HttpRequest, upstream: str) -> HttpResponseBase:
    """Forward to ``upstream``; upstream failures answer in the error envelope."""
    try:
        return forward(request, settings.GATEWAY_UPSTREAMS[upstream])
    except UpstreamError as exc:
        return error_response(exc.status_code, exc.default_code, exc.message, headers=exc.headers)


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """200 ``ok`` when every upstream is ready, else 503 ``degraded``."""
    ok, services = upstreams_health()
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "services": services}, status=200 if ok else 503
    )
