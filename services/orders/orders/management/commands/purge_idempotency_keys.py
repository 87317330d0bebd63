"""Delete Idempotency-Keys older than 24 hours (run daily)."""

from typing import Any

from django.core.management.base import BaseCommand

from orders.idempotency import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete expired Idempotency-Keys whose orders are settled."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"deleted {idempotency_keys_purge()} expired idempotency key(s)")
