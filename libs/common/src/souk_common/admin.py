"""The admin site of every service: Django's, with failed logins limited.

Each service's ``/admin/login/`` allows ``SOUK["ADMIN_LOGIN_FAILURES_PER_USERNAME"]``
failed logins per username (folded as the users service's sign-in folds it) and
``SOUK["ADMIN_LOGIN_FAILURES_PER_ADDRESS"]`` per client address in
``SOUK["ADMIN_LOGIN_WINDOW_SECONDS"]``, counted in the shared cache. Past either,
no password is checked: the login page answers 429 and says why.

Installed by naming :class:`souk_common.apps.AdminConfig` instead of
``django.contrib.admin`` in ``INSTALLED_APPS`` (``souk_common.settings.DJANGO_APPS``
does), which makes ``django.contrib.admin.site`` an :class:`AdminSite`. Its
"View site" leads to the storefront (``STOREFRONT_URL``) when there is one, else to
the service's API docs.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse

from souk_common.conf import souk_settings
from souk_common.network import client_address
from souk_common.throttling import FailureLimit, username_key


def admin_login_limits(request: HttpRequest, username: str) -> list[tuple[FailureLimit, str]]:
    """The limits an admin login attempt counts against, each with its key."""
    window = int(souk_settings.ADMIN_LOGIN_WINDOW_SECONDS)
    return [
        (
            FailureLimit(
                "admin-login-address", souk_settings.ADMIN_LOGIN_FAILURES_PER_ADDRESS, window
            ),
            client_address(request.META),
        ),
        (
            FailureLimit(
                "admin-login-username", souk_settings.ADMIN_LOGIN_FAILURES_PER_USERNAME, window
            ),
            username_key(username),
        ),
    ]


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form; once too many logins failed, it checks no password."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": (
            "Too many failed logins as this user or from this address. "
            "Wait %(minutes)d minutes, then try again."
        ),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if self.request is None or not username:
            return super().clean()
        limits = admin_login_limits(self.request, username)
        if any(limit.reached(ident) for limit, ident in limits):
            minutes = math.ceil(int(souk_settings.ADMIN_LOGIN_WINDOW_SECONDS) / 60)
            raise ValidationError(
                self.error_messages["throttled"], code="throttled", params={"minutes": minutes}
            )
        try:
            return super().clean()
        except ValidationError as error:
            # A wrong password, or an account that may not use the admin, counts; the
            # users service not answering a staff sign-in (souk_common.staff) does not.
            if not any(getattr(e, "code", None) == "users_unavailable" for e in error.error_list):
                for limit, ident in limits:
                    limit.record(ident)
            raise


def site_url() -> str:
    """Where the admin's "View site" leads: the storefront, else the page the service names
    (``ADMIN_SITE_URL``: the gateway's routes in force), else this service's API docs."""
    for name in ("STOREFRONT_URL", "ADMIN_SITE_URL"):
        url = str(getattr(settings, name, ""))
        if url:
            return url
    try:
        return reverse("docs")
    except NoReverseMatch:
        return "/"


class AdminSite(admin.AdminSite):
    """Django's admin site, with :class:`ThrottledAdminAuthenticationForm` to log in, and
    "View site" leading somewhere (:func:`site_url`)."""

    login_form = ThrottledAdminAuthenticationForm

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        context["site_url"] = site_url()
        return context

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if form is not None and form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
            response["Retry-After"] = str(int(souk_settings.ADMIN_LOGIN_WINDOW_SECONDS))
        return response
