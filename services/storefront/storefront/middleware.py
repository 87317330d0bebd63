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
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from souk_common.errors import BadGateway, UpstreamTimeout, UpstreamUnavailable
from souk_common.network import client_address_after_hops
from storefront.clients.gateway import ApiError, shopper_address
from storefront.shopper import SessionEnded

logger = logging.getLogger(__name__)
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


#: The tag of the message that says the shop could not answer an htmx request.
UNAVAILABLE_TAG = "shop-unavailable"


class GatewayErrorMiddleware:
    """The API down, busy or refusing the session, as a page for people: never a traceback.

    - the gateway unreachable, failing or timing out, or answering 5xx (souk_common's
      BadGateway, UpstreamTimeout, UpstreamUnavailable): 503, "the shop is unavailable,
      try again";
    - 429 from the API: "the shop is busy", with how long to wait when it said;
    - the session ended (a refresh token the API refuses): to the sign-in page, saying
      so, and back to the page the shopper was on once signed in.

    An htmx request that meets one of these reloads its page (htmx swaps no error).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        htmx = getattr(request, "htmx", None)
        if isinstance(exception, SessionEnded):
            messages.info(request, "Your session has ended. Please sign in again.")
            target = f"{reverse('sign-in')}?{urlencode({'next': page_shown(request)})}"
            return HttpResponseClientRedirect(target) if htmx else HttpResponseRedirect(target)
        if isinstance(exception, BadGateway | UpstreamTimeout | UpstreamUnavailable):
            logger.warning("the API could not be reached: %s", exception)
            retry_after, status = RETRY_SECONDS, 503
        elif isinstance(exception, ApiError) and exception.status == 429:
            logger.warning("the API is busy: %s", exception)
            retry_after, status = exception.retry_after or RETRY_SECONDS, 429
        else:
            return None
        if htmx:
            # htmx swaps no error answer: the page is loaded again, and says so.
            messages.error(
                request,
                f"The shop could not answer just now; try again in {retry_after} s.",
                extra_tags=UNAVAILABLE_TAG,
            )
            return HttpResponseClientRefresh()
        return unavailable(request, retry_after=retry_after, status=status)


def page_shown(request: HttpRequest) -> str:
    """The page the shopper is on: the address bar's for htmx (not the fragment asked
    for), the one a form was sent from for a POST (a POST-only URL has no page)."""
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.current_url_abs_path:
        return str(htmx.current_url_abs_path)
    if request.method == "GET":
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}):
        return referer
    return reverse("catalogue")


def unavailable(request: HttpRequest, *, retry_after: int, status: int = 503) -> HttpResponse:
    """The page that says the shop cannot answer: not twice, so without the message an
    htmx request left for the page it reloaded (which met the same gateway)."""
    busy = status == 429
    shown = [
        message
        for message in messages.get_messages(request)
        if UNAVAILABLE_TAG not in (message.extra_tags or "").split()
    ]
    response = render(
        request,
        "storefront/unavailable.html",
        {"retry_after": retry_after, "busy": busy, "messages": shown},
        status=status,
    )
    response["Retry-After"] = str(retry_after)
    return response
