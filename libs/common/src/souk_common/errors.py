"""The one error shape of every Souk service, and the handlers that produce it.

Every error, whether raised by DRF, by Django (404, 500, bad host) or by a
service, leaves as::

    {"error": {"code": "...", "message": "...", "details": {...}, "request_id": "..."}}

``details`` holds field errors for ``validation_error``. No traceback is ever
sent; unexpected exceptions are logged with theirs and answered with
``internal_error``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from souk_common.logging import current_request_id

logger = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """Machine-readable error codes of the public contract."""

    VALIDATION_ERROR = "validation_error"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    OUT_OF_STOCK = "out_of_stock"
    CONFLICT = "conflict"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    REQUEST_TIMEOUT = "request_timeout"
    URI_TOO_LONG = "uri_too_long"
    HEADERS_TOO_LARGE = "request_header_fields_too_large"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    BAD_GATEWAY = "bad_gateway"
    UPSTREAM_UNAVAILABLE = "upstream_unavailable"
    UPSTREAM_TIMEOUT = "upstream_timeout"


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the envelope for one error, stamped with the current request id."""
    return {
        "error": {
            "code": str(code),
            "message": message,
            "details": dict(details or {}),
            "request_id": current_request_id(),
        }
    }


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


class ServiceError(exceptions.APIException):
    """An error a service raises on purpose, with its contract code.

    Subclasses set ``status_code``, ``default_code`` and ``default_detail``;
    ``details`` carries structured data (for example the short lines of an
    ``out_of_stock``) and ``headers`` extra response headers.
    """

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code: str = ErrorCode.VALIDATION_ERROR.value
    default_detail: str = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.default_detail, self.default_code)
        self.message = str(message or self.default_detail)
        self.details = dict(details or {})
        self.headers = dict(headers or {})


class Conflict(ServiceError):
    """The request conflicts with the current state of the resource."""

    status_code = status.HTTP_409_CONFLICT
    default_code = ErrorCode.CONFLICT.value
    default_detail = "The request conflicts with the current state of the resource."


class PayloadTooLarge(ServiceError):
    """The request body is larger than allowed."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = ErrorCode.PAYLOAD_TOO_LARGE.value
    default_detail = "The request body is too large."


class UpstreamError(ServiceError):
    """Base of the errors about another service this one depends on."""

    status_code: int = status.HTTP_502_BAD_GATEWAY
    default_code = ErrorCode.BAD_GATEWAY.value
    default_detail = "An upstream service failed to answer properly."


class BadGateway(UpstreamError):
    """The upstream refused or reset the connection, or answered nonsense."""


class UpstreamUnavailable(UpstreamError):
    """The upstream is known to be down (circuit open) or too busy."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = ErrorCode.UPSTREAM_UNAVAILABLE.value
    default_detail = "An upstream service is unavailable; try again shortly."

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float = 1.0,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(message, details=details, headers={"Retry-After": str(seconds)})
        self.retry_after = seconds


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer within its timeout."""

    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    default_code = ErrorCode.UPSTREAM_TIMEOUT.value
    default_detail = "An upstream service did not answer in time."


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
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers: dict[str, str] = {}
    if isinstance(exc, ServiceError):
        code, message, details = exc.default_code, exc.message, exc.details
        headers.update(exc.headers)
    else:
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
