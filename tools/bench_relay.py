"""One measurement of `nox -s bench -- relay` (tools/bench.py), run in the orders service's
folder and environment, against the broker at ``BROKER_URL``; prints its numbers as JSON.

    relay            fill the outbox with N ``order.confirmed`` events (event_publish, one
                     transaction), then time ``Relay.send_pending`` sending them all
    publish          time the same N messages published by the relay's producer with no
                     database at all (the broker's share of the relay's time)
    publish-unconfirmed
                     the same on a RabbitMQ connection without publisher confirms (what
                     waiting for each confirm costs; not how the relay runs)

The consumer's queue (``souk.notifications``, bound to ``souk.orders``) is declared and
emptied first, so every message is routed and stored as in production; afterwards its
message count must be N.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from typing import Any


def order_data(number: int) -> dict[str, Any]:
    """What an ``order.confirmed`` of three lines carries (orders.services)."""
    items = [
        {
            "product_id": product,
            "name": f"Product {product}",
            "unit_price": "12.50",
            "quantity": 2,
            "line_total": "25.00",
        }
        for product in (1, 2, 3)
    ]
    return {
        "order_id": str(uuid.uuid4()),
        "user_id": number,
        "status": "confirmed",
        "items": items,
        "total": "75.00",
        "created_at": "2026-11-30T12:00:00.000000+00:00",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["relay", "publish", "publish-unconfirmed"])
    parser.add_argument("--events", type=int, required=True)
    args = parser.parse_args()
    sys.path.insert(0, os.getcwd())  # the service's folder: its settings
    import django

    django.setup()
    from django.db import transaction
    from kombu import Connection

    from souk_common.conf import souk_settings
    from souk_common.events import broker
    from souk_common.events.envelope import Event
    from souk_common.events.models import OutboxEvent
    from souk_common.events.publish import event_publish
    from souk_common.events.relay import Relay

    url, source = souk_settings.BROKER_URL, souk_settings.EVENTS_SOURCE
    [queue] = broker.queue("notifications", [source])
    relay = Relay(url=url, source=source, poll_seconds=0.1, retention_seconds=3600)
    result: dict[str, Any] = {"what": args.what, "events": args.events}
    with broker.connection(url) as connection:
        connection.ensure_connection(max_retries=1)
        queue(connection.default_channel).declare()
        queue(connection.default_channel).purge()
        if args.what == "relay":
            OutboxEvent.objects.all().delete()
            started = time.perf_counter()
            with transaction.atomic():
                for number in range(args.events):
                    event_publish(type="order.confirmed", data=order_data(number))
            result["fill_seconds"] = time.perf_counter() - started
            started = time.perf_counter()
            sent = relay.send_pending(connection)
            result["seconds"] = time.perf_counter() - started
            if sent != args.events:
                raise SystemExit(f"the relay sent {sent} of {args.events} events")
        else:
            bodies = [
                Event(type="order.confirmed", data=order_data(number), source=source).to_json()
                for number in range(args.events)
            ]
            publishing = connection
            if args.what == "publish-unconfirmed":
                publishing = Connection(url, heartbeat=30, connect_timeout=5)
                publishing.ensure_connection(max_retries=1)
            producer = relay.producer(publishing)
            started = time.perf_counter()
            for body in bodies:
                producer.publish(
                    body,
                    exchange=relay.exchange,
                    routing_key="",
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode="persistent",
                    message_id=str(uuid.uuid4()),
                    type="order.confirmed",
                    retry=False,
                )
            if args.what == "publish-unconfirmed":
                # Wait until the broker has them all, so both are timed to the same end.
                while queue(connection.default_channel).queue_declare(passive=True)[1] < len(
                    bodies
                ):
                    time.sleep(0.005)
            result["seconds"] = time.perf_counter() - started
            if publishing is not connection:
                publishing.release()
        result["queued"] = queue(connection.default_channel).queue_declare(passive=True)[1]
        queue(connection.default_channel).purge()
    result["per_second"] = args.events / result["seconds"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
