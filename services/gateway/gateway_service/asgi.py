"""ASGI entry point of the gateway's public listener: the proxy, with Django behind it for a
few pages (see proxy/app.py). Served by ``python -m gateway_service.serve``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_service.settings")

django_application = get_asgi_application()

from proxy.app import Gateway  # noqa: E402 - needs Django set up

application = Gateway(django_application)
