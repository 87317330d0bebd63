"""Bring a service's database up to date: its migrations, then the cache table.

One process instead of ``migrate`` and ``createcachetable`` one after the other: Django
starts once (most of the cost of either on a database that is already up to date).
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Apply every migration, then create the database cache table if it is missing."

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("createcachetable", verbosity=verbosity)
