import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from souk_common.events.consume import MALFORMED, dead_letter_replay
from souk_common.events.models import InboxEvent


class Command(BaseCommand):
    help = "List this service's dead letters, or replay some (--replay ID ... or --replay-all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--replay", nargs="+", type=uuid.UUID, default=[], metavar="ID")
        parser.add_argument("--replay-all", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        dead = InboxEvent.objects.filter(state=InboxEvent.State.DEAD).order_by("received_at")
        ids: list[uuid.UUID] = options["replay"]
        if options["replay_all"]:
            ids = list(dead.exclude(type=MALFORMED).values_list("event_id", flat=True))
        if not ids:
            for row in dead:
                error = row.last_error.strip().splitlines()[-1:] or [""]
                self.stdout.write(
                    f"{row.event_id}  {row.type}  from {row.source or '?'}  "
                    f"{row.attempts} attempts  {row.received_at:%Y-%m-%d %H:%M:%S}  {error[0]}"
                )
            self.stdout.write(f"{dead.count()} dead letters")
            return
        missing = [event_id for event_id in ids if not dead_letter_replay(event_id)]
        if missing:
            raise CommandError(f"not dead letters here: {', '.join(map(str, missing))}")
        self.stdout.write(f"{len(ids)} replayed: the consumer tries them again now")
