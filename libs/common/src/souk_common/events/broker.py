"""The broker, through kombu: RabbitMQ at ``amqp://...``, or the embedded one at ``sqlite:///...``.

Each publishing service has its own durable fanout exchange ``souk.<service>``;
each consuming service its own durable queue ``souk.<service>``, bound to the
exchanges of the services whose events it handles. Declaring them is idempotent,
so every relay and consumer declares what it uses when it connects.
"""

from __future__ import annotations

from collections.abc import Iterable

from kombu import Connection, Exchange, Queue

from souk_common.events.embedded import Transport as EmbeddedTransport

EMBEDDED_SCHEME = "sqlite://"


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
