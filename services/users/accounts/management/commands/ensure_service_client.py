"""Create or update a service client: ``ensure_service_client orders --scopes users:read ...``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import service_client_ensure
from souk_common.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Create or update a service client with the given scopes. The secret comes from "
        "--secret-env (a variable's name) or --secret-file; it is stored hashed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id")
        parser.add_argument("--scopes", nargs="+", required=True)
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--secret-env", help="name of the variable holding the secret")
        source.add_argument("--secret-file", type=Path, help="file holding the secret")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["secret_env"]:
            secret = os.environ.get(options["secret_env"], "")
        else:
            secret = options["secret_file"].read_text().strip()
        if not secret:
            raise CommandError("the secret is empty")
        try:
            client = service_client_ensure(
                client_id=options["client_id"], secret=secret, scopes=options["scopes"]
            )
        except InvalidInput as exc:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in exc.details.items()
            )
            raise CommandError(problems) from None
        self.stdout.write(f"service client '{client.client_id}' has scopes: {client.scopes}")
