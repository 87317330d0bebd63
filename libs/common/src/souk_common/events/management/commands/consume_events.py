from typing import Any

from django.core.management.base import BaseCommand

from souk_common.conf import souk_settings
from souk_common.events.consume import QueueConsumer, configured_handlers
from souk_common.events.management.commands._running import stop_on_signals


class Command(BaseCommand):
    help = (
        "Handle the events on this service's queue with its registered handlers, retrying "
        "failures with backoff, until SIGTERM; several copies may run at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        consumer = QueueConsumer(
            url=souk_settings.BROKER_URL,
            service=souk_settings.EVENTS_SOURCE,
            handlers=configured_handlers(),
        )
        consumer.run(stop_on_signals())
