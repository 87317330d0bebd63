"""WSGI entry point of the storefront service."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront_service.settings")

application = get_wsgi_application()
