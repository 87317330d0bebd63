from typing import Any

from django.core.management.base import BaseCommand

from souk_common.conf import souk_settings
from souk_common.events.management.commands._running import stop_on_signals
from souk_common.events.relay import Relay


class Command(BaseCommand):
    help = (
        "Send this service's outbox to its exchange on the broker, oldest first, until "
        "SIGTERM; several copies may run at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        relay = Relay(
            url=souk_settings.BROKER_URL,
            source=souk_settings.EVENTS_SOURCE,
            poll_seconds=souk_settings.EVENTS_RELAY_POLL_SECONDS,
            retention_seconds=souk_settings.EVENTS_OUTBOX_RETENTION_SECONDS,
        )
        relay.run(stop_on_signals())
