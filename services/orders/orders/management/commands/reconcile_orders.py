"""Drive orders left pending, failing or cancelling to a final state, and cancel checkouts
whose payment did not come in time (once, or on a schedule)."""

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from orders.services import orders_reconcile
from souk_common.heartbeat import Heartbeat


class Command(BaseCommand):
    help = (
        "Settle orders that a crash, a hang or a restart left unsettled for longer than the "
        "grace period: release their stock at products, then mark them failed or cancelled; "
        "and cancel checkouts awaiting payment for longer than the payment timeout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace",
            type=float,
            default=settings.ORDERS_RECONCILE_GRACE_SECONDS,
            help="seconds an order may stay unsettled before recovery takes it over",
        )
        parser.add_argument(
            "--payment-timeout",
            type=float,
            default=settings.CHECKOUT_PAYMENT_TIMEOUT,
            help="seconds a checkout may await its payment before it is cancelled",
        )
        parser.add_argument(
            "--every", type=float, default=0, help="run again every N seconds, until stopped"
        )

    def handle(
        self, *args: Any, grace: float, payment_timeout: float, every: float, **options: Any
    ) -> None:
        heartbeat = Heartbeat.configured()  # touched each round (souk_common.heartbeat)
        while True:
            heartbeat.beat()
            counts = orders_reconcile(
                grace=timedelta(seconds=grace), payment_timeout=timedelta(seconds=payment_timeout)
            )
            if any(counts.values()) or not every:
                self.stdout.write(
                    f"reconciled: {counts['failed']} failed, {counts['cancelled']} cancelled, "
                    f"{counts['left']} left for the next run"
                )
            if not every:
                return
            close_old_connections()
            time.sleep(every)
