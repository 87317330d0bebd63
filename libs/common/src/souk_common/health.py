"""Health views every service serves.

``/health/live`` says the process answers; ``/health/ready`` says it can do
its work, which here means its database answers. Both are plain Django views:
cheap, unauthenticated, and never touching more than one ``SELECT 1``.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@require_safe
def live(request: HttpRequest) -> JsonResponse:
    """200 while the process can answer at all."""
    return JsonResponse({"status": "ok"})


@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("database not ready: %s", exc)
        return JsonResponse(
            {"status": "unavailable", "checks": {"database": "unavailable"}}, status=503
        )
    return JsonResponse({"status": "ok", "checks": {"database": "ok"}})
