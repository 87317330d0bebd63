"""The gateway's own views (everything off the hot path): health and the API docs."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from proxy.docs import merged_schema
from proxy.health import upstreams_health


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """200 ``ok`` when every upstream is ready, else 503 ``degraded``."""
    ok, services = upstreams_health()
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "services": services}, status=200 if ok else 503
    )


@require_safe
def schema(request: HttpRequest) -> JsonResponse:
    """The public API of every service, as one OpenAPI document."""
    return JsonResponse(merged_schema())
