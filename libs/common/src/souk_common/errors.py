"""The one error shape of every Souk service, and the domain errors services raise.

Every error, whether raised by DRF, by Django (404, 500, bad host) or by a
service, leaves as::

    {"error": {"code": "...", "message": "...", "details": {...}, "request_id": "..."}}

``details`` holds field errors for ``validation_error``. No traceback is ever
sent; unexpected exceptions are logged with theirs and answered with
``internal_error``.

Services speak the domain: they raise subclasses of :class:`ApplicationError`
(a contract code, a message, details) and never build HTTP answers; the code's
HTTP status is in :data:`STATUSES`, the one place it is decided. Nothing here
imports DRF: :mod:`souk_common.exception_handlers` turns errors into answers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

from souk_common.logging import current_request_id


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


# The HTTP status of each code: the one place where a domain error becomes HTTP.
STATUSES: dict[str, int] = {
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.NOT_ACCEPTABLE: 406,
    ErrorCode.REQUEST_TIMEOUT: 408,
    ErrorCode.OUT_OF_STOCK: 409,
    ErrorCode.CONFLICT: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.URI_TOO_LONG: 414,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.HEADERS_TOO_LARGE: 431,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.BAD_GATEWAY: 502,
    ErrorCode.UPSTREAM_UNAVAILABLE: 503,
    ErrorCode.UPSTREAM_TIMEOUT: 504,
}
# Who to ask for credentials, on every 401.
BEARER_CHALLENGE = 'Bearer realm="souk"'


class ApplicationError(Exception):
    """The base of every error a service raises on purpose.

    A domain error names what went wrong in the domain (``OutOfStock``,
    ``AccountInactive``); it carries a stable contract ``code``, a message and
    optional ``details``, and knows nothing of HTTP: :func:`exception_handler`
    answers ``STATUSES[code]`` with the envelope. Subclasses set ``code`` and
    ``default_message``::

        class OutOfStock(ApplicationError):
            code = ErrorCode.OUT_OF_STOCK
            default_message = "Not enough stock for some lines; nothing was reserved."
    """

    code: ClassVar[ErrorCode] = ErrorCode.VALIDATION_ERROR
    default_message: ClassVar[str] = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: Mapping[str, Any] | None = None):
        self.message = str(message or self.default_message)
        self.details = dict(details or {})
        super().__init__(self.message)

    @property
    def status(self) -> int:
        """The HTTP status this error is answered with."""
        return STATUSES[self.code]

    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides the envelope (e.g. ``Retry-After``)."""
        return {"WWW-Authenticate": BEARER_CHALLENGE} if self.status == 401 else {}


class InvalidInput(ApplicationError):
    """Input a service refuses; ``details`` maps each field to its messages."""

    code = ErrorCode.VALIDATION_ERROR
    default_message = "The request is invalid."


class NotAuthenticated(ApplicationError):
    """Credentials missing, wrong, or no longer valid."""

    code = ErrorCode.NOT_AUTHENTICATED
    default_message = "Authentication credentials were not provided or are not valid."


class PermissionDenied(ApplicationError):
    """The caller is known and may not do this."""

    code = ErrorCode.PERMISSION_DENIED
    default_message = "You do not have permission to do this."


class NotFound(ApplicationError):
    """Nothing the caller may see has that name."""

    code = ErrorCode.NOT_FOUND
    default_message = "Not found."


class Conflict(ApplicationError):
    """The request conflicts with the current state of the resource."""

    code = ErrorCode.CONFLICT
    default_message = "The request conflicts with the current state of the resource."


class PayloadTooLarge(ApplicationError):
    """The request body is larger than allowed."""

    code = ErrorCode.PAYLOAD_TOO_LARGE
    default_message = "The request body is too large."


class UpstreamError(ApplicationError):
    """Base of the errors about another service this one depends on."""

    code = ErrorCode.BAD_GATEWAY
    default_message = "An upstream service failed to answer properly."


class BadGateway(UpstreamError):
    """The upstream refused or reset the connection, or answered nonsense."""


class UpstreamUnavailable(UpstreamError):
    """The upstream is known to be down (circuit open) or too busy; try again later."""

    code = ErrorCode.UPSTREAM_UNAVAILABLE
    default_message = "An upstream service is unavailable; try again shortly."

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float = 1.0,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after = max(1, math.ceil(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer within its timeout."""

    code = ErrorCode.UPSTREAM_TIMEOUT
    default_message = "An upstream service did not answer in time."


def answer_for(error: ApplicationError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """What a domain error is answered with: status, envelope and headers."""
    return error.status, error_body(error.code, error.message, error.details), error.headers()
