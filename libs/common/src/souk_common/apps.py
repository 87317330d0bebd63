"""Django app configs: installing ``souk_common`` gives a service its shared commands,
and :class:`AdminConfig` stands in for ``django.contrib.admin``."""

from django.apps import AppConfig
from django.conf import settings
from django.contrib.admin import apps as admin_apps


class SoukCommonConfig(AppConfig):
    name = "souk_common"
    verbose_name = "Souk common"

    def ready(self) -> None:
        from souk_common import (
            schema,  # noqa: F401 - registers the OpenAPI extension
            staff,  # noqa: F401 - keeps and revokes staff sessions' tokens
        )
        from souk_common.tracing import tracing_configure

        # Spans exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; else nothing.
        tracing_configure(getattr(settings, "SERVICE_NAME", "souk"))


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin, whose site limits failed logins (:class:`souk_common.admin.AdminSite`).

    Where staff sign in with their users account (:mod:`souk_common.staff`), accounts
    and groups are managed in the users service alone: this admin does not show them.
    """

    default = False  # ``souk_common`` itself is SoukCommonConfig
    default_site = "souk_common.admin.AdminSite"

    def ready(self) -> None:
        super().ready()
        from souk_common.staff import STAFF_BACKEND

        if STAFF_BACKEND in settings.AUTHENTICATION_BACKENDS:
            from django.contrib import admin
            from django.contrib.auth import get_user_model
            from django.contrib.auth.models import Group

            for model in (get_user_model(), Group):
                if admin.site.is_registered(model):
                    admin.site.unregister(model)
