import dataclasses
import json
from typing import Any

from django.core.management.base import BaseCommand

from souk_common.events.stats import event_stats


class Command(BaseCommand):
    help = (
        "This service's events, as JSON: the outbox backlog and the age of its oldest "
        "event, and the consumer's handled, retrying, failed and dead-letter counts."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(dataclasses.asdict(event_stats())))
