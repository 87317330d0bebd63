"""Django app config: installing ``souk_common`` gives a service its shared commands."""

from django.apps import AppConfig


class SoukCommonConfig(AppConfig):
    name = "souk_common"
    verbose_name = "Souk common"

    def ready(self) -> None:
        from souk_common import schema  # noqa: F401 - registers the OpenAPI extension
