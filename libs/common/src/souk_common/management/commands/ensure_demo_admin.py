"""Create or update the demo staff account ``admin`` (development only).

Accounts live in the users service: staff sign in to every other service's admin with
them (souk_common.staff), so the demo account is made there alone.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from souk_common.staff import STAFF_BACKEND


class Command(BaseCommand):
    help = "Ensure the demo superuser 'admin' exists with the password in DEMO_ADMIN_PASSWORD."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        if os.environ.get("SOUK_ENV", "production") != "development":
            raise CommandError("demo accounts exist only with SOUK_ENV=development")
        if STAFF_BACKEND in settings.AUTHENTICATION_BACKENDS:
            raise CommandError(
                "staff sign in here with their users account: "
                "make the demo admin in the users service"
            )
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "")
        if not password:
            raise CommandError("DEMO_ADMIN_PASSWORD is empty")
        user_model = get_user_model()
        user = user_model._default_manager.filter(username=username).first()
        created = user is None
        if user is None:
            user = user_model(username=username, email=f"{username}@souk.localhost")
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(password)
        user.save()
        verb = "created" if created else "updated"
        self.stdout.write(
            f"demo admin '{username}' {verb} ({settings.DATABASES['default']['ENGINE']})"
        )
