"""Where every error becomes the envelope: DRF's exception handler and Django's error views.

``REST_FRAMEWORK["EXCEPTION_HANDLER"]`` is :func:`exception_handler`; every URLconf
sets ``handler400/403/404/500`` to the views below (``souk_common.urls``). No
traceback is ever sent; unexpected exceptions are logged with theirs and answered
with ``internal_error``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from souk_common.errors import ApplicationError, ErrorCode, answer_for, error_body


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JsonResponse:
    """A plain Django response carrying the envelope (for non-DRF views)."""
    response = JsonResponse(error_body(code, message, details), status=status_code)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# DRF's own exceptions, by the contract code they are answered with.
_DRF_CODES: tuple[tuple[type[exceptions.APIException], ErrorCode], ...] = (
    (exceptions.ValidationError, ErrorCode.VALIDATION_ERROR),
    (exceptions.ParseError, ErrorCode.VALIDATION_ERROR),
    (exceptions.NotAuthenticated, ErrorCode.NOT_AUTHENTICATED),
    (exceptions.AuthenticationFailed, ErrorCode.NOT_AUTHENTICATED),
    (exceptions.PermissionDenied, ErrorCode.PERMISSION_DENIED),
    (exceptions.NotFound, ErrorCode.NOT_FOUND),
    (exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (exceptions.NotAcceptable, ErrorCode.NOT_ACCEPTABLE),
    (exceptions.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.Throttled, ErrorCode.RATE_LIMITED),
)

_MESSAGES = {
    ErrorCode.VALIDATION_ERROR: "The request is invalid.",
}


def _validation_details(detail: Any) -> dict[str, Any]:
    """Field errors as a mapping; errors not tied to a field go under non_field_errors."""
    if isinstance(detail, Mapping):
        return {str(key): value for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: answer every API exception with the envelope.

    Returns ``None`` for unexpected exceptions so that Django logs them and
    answers through :func:`server_error`, without a traceback in the response.
    """
    if isinstance(exc, ApplicationError):
        status_code, body, extra = answer_for(exc)
        return Response(body, status=status_code, headers=extra)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    code = next(
        (value for cls, value in _DRF_CODES if isinstance(exc, cls)),
        str(getattr(exc, "default_code", "error")),
    )
    if code == ErrorCode.NOT_AUTHENTICATED and exc.status_code == status.HTTP_403_FORBIDDEN:
        # DRF answers 403 when the view has no authenticator that could challenge.
        code = ErrorCode.PERMISSION_DENIED
    details = {}
    if isinstance(exc, exceptions.ValidationError):
        message = _MESSAGES[ErrorCode.VALIDATION_ERROR]
        details = _validation_details(exc.detail)
    else:
        message = str(exc.detail) if not isinstance(exc.detail, list | dict) else str(code)
    headers: dict[str, str] = {}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return Response(error_body(code, message, details), status=exc.status_code, headers=headers)


# Django's own error views (set as handler400/403/404/500 in every URLconf).


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer Django-level 400s (for example a disallowed Host) with the envelope."""
    return error_response(400, ErrorCode.VALIDATION_ERROR, "Bad request.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer Django-level 403s with the envelope."""
    return error_response(
        403, ErrorCode.PERMISSION_DENIED, "You do not have permission to do this."
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer unknown URLs with the envelope."""
    return error_response(404, ErrorCode.NOT_FOUND, "Not found.")


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer unexpected exceptions with the envelope; Django has already logged them."""
    return error_response(500, ErrorCode.INTERNAL_ERROR, "Internal server error.")
