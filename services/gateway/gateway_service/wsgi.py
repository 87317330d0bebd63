"""WSGI entry point of the gateway: the proxy in front, Django behind it for the rest."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_service.settings")

django_application = get_wsgi_application()

from proxy.app import Gateway  # noqa: E402 - needs Django set up

application = Gateway(django_application)
