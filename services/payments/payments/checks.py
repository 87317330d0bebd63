"""``manage.py check`` (and every command that runs it) refuses a provider that is not there."""

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from payments import providers


@checks.register()
def provider_configured(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        providers.provider()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="payments.E001")]
    return []
