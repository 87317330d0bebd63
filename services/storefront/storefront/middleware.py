"""What every page answers alike when the API cannot give it what it needs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from souk_common.errors import BadGateway, UpstreamTimeout, UpstreamUnavailable
from souk_common.network import client_address_after_hops
from storefront.clients.gateway import ApiError, shopper_address
from storefront.shopper import SessionEnded

logger = logging.getLogger(__name__)
BUSY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_SECONDS = 5
# Scripts, styles and forms from this site alone: htmx and the stylesheet are served
# here (no CDN), and no page carries inline script or style.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ShopperAddressMiddleware:
    """Remembers the browser's address for the calls this request makes to the gateway."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted_hops = int(settings.STOREFRONT["TRUSTED_PROXY_COUNT"])

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address = client_address_after_hops(request.META, self.trusted_hops)
        token = shopper_address.set(address)
        try:
            return self.get_response(request)
        finally:
            shopper_address.reset(token)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class GatewayErrorMiddleware:
    """The API down, busy or refusing the session, as a page for people: never a traceback.

    - the gateway unreachable, failing or timing out (souk_common's errors): 503, "the
      shop is unavailable, try again";
    - 429 or 502/503/504 from the API: the same, with how long to wait when it said;
    - the session ended (a refresh token the API refuses): to the sign-in page, saying so.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, SessionEnded):
            messages.info(request, "Your session has ended. Please sign in again.")
            target = f"{reverse('sign-in')}?{urlencode({'next': request.get_full_path()})}"
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(target)
            return HttpResponseRedirect(target)
        if isinstance(exception, BadGateway | UpstreamTimeout | UpstreamUnavailable):
            logger.warning("the API could not be reached: %s", exception)
            return unavailable(request, retry_after=RETRY_SECONDS)
        if isinstance(exception, ApiError) and exception.status in BUSY_STATUSES:
            logger.warning("the API is busy: %s", exception)
            return unavailable(
                request,
                retry_after=exception.retry_after or RETRY_SECONDS,
                status=429 if exception.status == 429 else 503,
            )
        return None


def unavailable(request: HttpRequest, *, retry_after: int, status: int = 503) -> HttpResponse:
    busy = status == 429
    response = render(
        request,
        "storefront/unavailable.html",
        {"retry_after": retry_after, "busy": busy},
        status=status,
    )
    response["Retry-After"] = str(retry_after)
    return response
