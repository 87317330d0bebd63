"""The embedded broker (souk_common.events.embedded) does what Souk needs of RabbitMQ."""

from __future__ import annotations

import subprocess
import sys
import time

from kombu import Connection, Producer, Queue

from souk_common.events import broker
from souk_common.events.embedded import Transport


def connect(path, **options) -> Connection:
    return Connection(f"sqlite:///{path}", transport=Transport, transport_options=options)


def take(connection: Connection, queue: Queue):
    """The next message of ``queue``, unacknowledged, or None."""
    return queue(connection.default_channel).get(no_ack=False)


def publish(path, body: bytes, exchange: str = "shop") -> None:
    with connect(path) as connection:
        producer = Producer(connection.default_channel, exchange=broker.exchange(exchange))
        producer.publish(body, content_type="application/json", routing_key="")


def test_fanout_reaches_every_queue_bound_from_another_process(tmp_path):
    path = tmp_path / "broker.sqlite3"
    # Two consumers bind their queues from processes of their own, then exit.
    for service in ("mail", "audit"):
        subprocess.run(
            [sys.executable, "-c", (
                "import sys; from kombu import Connection; "
                "from souk_common.events import broker; "
                "from souk_common.events.embedded import Transport; "
                f"c = Connection('sqlite:///{path}', transport=Transport); "
                f"[q(c.default_channel).declare() for q in broker.queue('{service}', ['shop'])]"
            )],
            check=True,
        )  # fmt: skip

    publish(path, b'{"n": 1}')

    with connect(path) as connection:
        for service in ("mail", "audit"):
            (queue,) = broker.queue(service, ["shop"])
            message = take(connection, queue)
            assert message.body == b'{"n": 1}'
            message.ack()
            assert take(connection, queue) is None


def test_a_message_taken_but_not_acknowledged_comes_back_when_its_consumer_goes(tmp_path):
    path = tmp_path / "broker.sqlite3"
    (queue,) = broker.queue("mail", ["shop"])
    with connect(path) as connection:
        queue(connection.default_channel).declare()
    publish(path, b"first")
    publish(path, b"second")

    with connect(path) as consumer:
        assert take(consumer, queue).body == b"first"  # and the consumer closes, no ack

    with connect(path) as consumer:
        first = take(consumer, queue)
        assert first.body == b"first"
        first.ack()
        assert take(consumer, queue).body == b"second"


def test_a_reservation_outlived_by_its_consumer_expires(tmp_path):
    path = tmp_path / "broker.sqlite3"
    (queue,) = broker.queue("mail", ["shop"])
    with connect(path) as connection:
        queue(connection.default_channel).declare()
    publish(path, b"only")

    stuck = connect(path, visibility_timeout=0.3)  # taken, then hung: never acks nor closes
    assert take(stuck, queue).body == b"only"
    with connect(path) as other:
        assert take(other, queue) is None
        time.sleep(0.5)
        again = take(other, queue)
        assert again.body == b"only"
        again.ack()
    stuck.release()


def test_messages_wait_in_the_file_for_the_next_start(tmp_path):
    path = tmp_path / "broker.sqlite3"
    (queue,) = broker.queue("mail", ["shop"])
    with connect(path) as connection:
        queue(connection.default_channel).declare()
    publish(path, b"kept")

    with connect(path) as restarted:
        assert take(restarted, queue).body == b"kept"
