"""Create many accounts at once for the system tests and load runs (development only).

``create_test_accounts 64 --prefix load-`` makes the active accounts ``load-0`` to
``load-63`` (``load-0@example.com``...), none with a usable password, and prints their
ids as a JSON list in that order. Those who use them sign their tokens with the
service's key instead of signing in (tools/stack.py, ``Stack.create_accounts``).
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Create COUNT active accounts named PREFIX0, PREFIX1... with no usable password, "
        "and print their ids as JSON (development only)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int)
        parser.add_argument("--prefix", required=True)

    def handle(self, *args: Any, count: int, prefix: str, **options: Any) -> None:
        if os.environ.get("SOUK_ENV", "production") != "development":
            raise CommandError("test accounts exist only with SOUK_ENV=development")
        if count < 1:
            raise CommandError("COUNT must be at least 1")
        # bulk_create skips the model's validators: check the longest name once.
        try:
            User._meta.get_field("username").run_validators(f"{prefix}{count - 1}")
        except ValidationError as error:
            raise CommandError(f"--prefix {prefix!r}: {' '.join(error.messages)}") from None
        # One INSERT, one (unusable) password hash for all: test data, not sign-ups.
        password = make_password(None)
        accounts = [
            User(username=f"{prefix}{n}", email=f"{prefix}{n}@example.com", password=password)
            for n in range(count)
        ]
        try:
            with transaction.atomic():
                created = User.objects.bulk_create(accounts, batch_size=1000)
        except IntegrityError:
            raise CommandError(f"accounts named {prefix}0... exist already") from None
        self.stdout.write(json.dumps([account.pk for account in created]))
