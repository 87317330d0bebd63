"""WSGI entry point of the gateway's admin listener (the admin, and later its metrics).

Never exposed: the public listener is ``gateway_service.asgi`` (``python -m
gateway_service.serve``), which does not serve the admin.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_service.settings")

application = get_wsgi_application()
