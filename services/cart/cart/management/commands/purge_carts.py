"""Delete expired carts from the embedded store (once, or on a schedule); Redis expires its own."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from cart.services import carts_purge


class Command(BaseCommand):
    help = (
        "Delete carts past their expiry from the service's database (the embedded store). "
        "With REDIS_URL there is nothing to do: Redis deletes expired carts itself."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every", type=float, default=0, help="run again every N seconds, until stopped"
        )

    def handle(self, *args: Any, every: float, **options: Any) -> None:
        while True:
            deleted = carts_purge()
            if deleted or not every:
                self.stdout.write(f"deleted {deleted} expired cart(s)")
            if not every:
                return
            close_old_connections()
            time.sleep(every)
