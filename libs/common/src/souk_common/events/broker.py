"""The broker, through kombu: RabbitMQ at ``amqp://...``, or the embedded one at ``sqlite:///...``.

Each publishing service has its own durable fanout exchange ``souk.<service>``;
each consuming service its own durable queue ``souk.<service>``, bound to the
exchanges of the services whose events it handles. Declaring them is idempotent,
so every relay and consumer declares what it uses when it connects.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from django.db import close_old_connections
from kombu import Connection, Exchange, Queue

from souk_common.events.embedded import Transport as EmbeddedTransport

EMBEDDED_SCHEME = "sqlite://"

logger = logging.getLogger(__name__)


def connection(url: str) -> Connection:
    """A kombu connection (not yet connected) to the broker at ``url``.

    On RabbitMQ every publish waits for the broker's confirm (a nack or a lost
    connection raises), and heartbeats notice a dead connection within a minute.
    """
    if not url:
        raise RuntimeError("SOUK['BROKER_URL'] is unset: amqp://... or sqlite:///<file>.")
    if url.startswith(EMBEDDED_SCHEME):
        return Connection(url, transport=EmbeddedTransport)
    return Connection(
        url,
        heartbeat=30,
        connect_timeout=5,
        transport_options={"confirm_publish": True},
    )


def exchange(source: str) -> Exchange:
    """The fanout exchange ``souk.<source>`` that ``source`` publishes its events to."""
    return Exchange(f"souk.{source}", type="fanout", durable=True, delivery_mode="persistent")


def queue(service: str, sources: Iterable[str]) -> list[Queue]:
    """The durable queue ``souk.<service>``, bound to each of ``sources``' exchanges."""
    name = f"souk.{service}"
    return [
        Queue(name, exchange(source), routing_key="", durable=True, auto_delete=False)
        for source in sorted(set(sources))
    ]


def keep_connected(
    url: str,
    stop: threading.Event,
    work: Callable[[Connection, threading.Event], None],
    *,
    name: str,
    max_backoff_seconds: float = 5.0,
    beat: Callable[[], None] = lambda: None,
) -> None:
    """Run ``work`` on a connection to the broker until ``stop`` is set; ``beat`` each
    time round (a loop that waits for the broker to come back still goes round).

    Whatever interrupts it (the broker, the network, the database) closes the
    connection; after a pause, doubling from half a second to ``max_backoff_seconds``,
    a new connection starts ``work`` again. What ``work`` holds unfinished is its
    to leave safe (the relay's batch rolls back; a consumer's message is not acknowledged).
    """
    backoff = 0.5
    while not stop.is_set():
        beat()
        try:
            with connection(url) as broker:
                broker.ensure_connection(max_retries=1)
                logger.info("%s connected to %s", name, broker.as_uri())
                backoff = 0.5
                work(broker, stop)
        except Exception as exc:  # noqa: BLE001 -- broker, network or database: wait, retry
            close_old_connections()
            logger.warning("%s interrupted (%r); again in %.1f s", name, exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff_seconds)
