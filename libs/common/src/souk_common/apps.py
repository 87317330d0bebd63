"""Django app configs: installing ``souk_common`` gives a service its shared commands,
and :class:`AdminConfig` stands in for ``django.contrib.admin``."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class SoukCommonConfig(AppConfig):
    name = "souk_common"
    verbose_name = "Souk common"

    def ready(self) -> None:
        from souk_common import schema  # noqa: F401 - registers the OpenAPI extension


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin, whose site limits failed logins (:class:`souk_common.admin.AdminSite`)."""

    default = False  # ``souk_common`` itself is SoukCommonConfig
    default_site = "souk_common.admin.AdminSite"
