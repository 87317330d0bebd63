"""The embedded broker: a kombu transport on one SQLite file, for a stack with no broker.

``BROKER_URL=sqlite:///<path>`` (``nox -s up``'s default, under ``var/``) moves events
through this file instead of RabbitMQ. What Souk needs of a broker, it does the same:

- fanout: a message published to an exchange reaches every queue bound to it, in
  every process (bindings are rows, not process memory);
- durable and at least once: a message is a row until its consumer acknowledges it;
  a delivered message is only reserved, and a reservation that outlives
  ``visibility_timeout`` (30 s: its consumer died) makes it deliverable again; a channel
  that closes gives its reservations back at once;
- ordered: a queue gives its oldest deliverable message first;
- it survives a restart of the stack: everything is in the file.

Publishing is confirmed when the row is committed. No well-kept library offers this
(kombu's filesystem transport loses a message taken by a consumer that dies before
acknowledging it, and its SQLAlchemy transport has no fanout), hence this module.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.transport import virtual
from kombu.utils.json import dumps, loads

SCHEMA = """
CREATE TABLE IF NOT EXISTS binding (
    exchange TEXT NOT NULL,
    queue TEXT NOT NULL,
    PRIMARY KEY (exchange, queue)
);
CREATE TABLE IF NOT EXISTS message (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    payload TEXT NOT NULL,
    reserved_until REAL,
    reserved_by TEXT
);
CREATE INDEX IF NOT EXISTS message_ready ON message (queue, reserved_until, id);
"""


class Database:
    """One SQLite file shared by every process; each thread has its own connection."""

    def __init__(self, path: str) -> None:
        self.path = path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.connection().executescript(SCHEMA)  # idempotent; commits on its own

    def connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE``: writers queue up instead of failing."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


class QoS(virtual.QoS):
    """Acknowledging deletes the row; rejecting or closing gives the reservation back."""

    def ack(self, delivery_tag: str) -> None:
        self.channel._settle(delivery_tag, requeue=False)
        super().ack(delivery_tag)

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        self.channel._settle(delivery_tag, requeue=requeue)
        self._quick_ack(delivery_tag)

    def restore_unacked(self) -> list[Any]:
        self._flush()
        self.channel._release_all()
        self._delivered.clear()
        return []


class Channel(virtual.Channel):
    QoS = QoS
    supports_fanout = True
    do_restore = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = self.connection.client.transport_options
        self.visibility_timeout = float(options.get("visibility_timeout", 30))
        self.db = self.connection.database
        self.owner = f"{id(self)}-{time.monotonic_ns()}"
        self._reserved: dict[str, int] = {}  # delivery tag -> row

    # Bindings live in the file, so a publisher sees the queues of every process.

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO binding (exchange, queue) VALUES (?, ?)", (exchange, queue)
            )

    def get_table(self, exchange: str) -> list[tuple[str, str, str]]:
        rows = self.db.connection().execute(
            "SELECT queue FROM binding WHERE exchange = ? ORDER BY queue", (exchange,)
        )
        return [("", "", queue) for (queue,) in rows]

    def _put_fanout(
        self, exchange: str, message: dict[str, Any], routing_key: str, **kw: Any
    ) -> None:
        payload = dumps(message)
        with self.db.transaction() as db:
            queues = [
                row[0]
                for row in db.execute("SELECT queue FROM binding WHERE exchange = ?", (exchange,))
            ]
            db.executemany(
                "INSERT INTO message (queue, payload) VALUES (?, ?)",
                [(queue, payload) for queue in queues],
            )

    # Messages.

    def _put(self, queue: str, message: dict[str, Any], **kwargs: Any) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO message (queue, payload) VALUES (?, ?)", (queue, dumps(message))
            )

    def _get(self, queue: str, timeout: float | None = None) -> dict[str, Any]:
        now = time.time()
        with self.db.transaction() as db:
            row = db.execute(
                "SELECT id, payload FROM message WHERE queue = ? "
                "AND (reserved_until IS NULL OR reserved_until < ?) ORDER BY id LIMIT 1",
                (queue, now),
            ).fetchone()
            if row is None:
                raise Empty()
            db.execute(
                "UPDATE message SET reserved_until = ?, reserved_by = ? WHERE id = ?",
                (now + self.visibility_timeout, self.owner, row[0]),
            )
        message: dict[str, Any] = loads(row[1])
        # One published message is one row per queue: the row names this delivery.
        tag = f"{message['properties']['delivery_tag']}/{row[0]}"
        message["properties"]["delivery_tag"] = tag
        self._reserved[tag] = row[0]
        return message

    def _settle(self, delivery_tag: str, *, requeue: bool) -> None:
        row = self._reserved.pop(delivery_tag, None)
        if row is None:
            return
        with self.db.transaction() as db:
            if requeue:
                db.execute(
                    "UPDATE message SET reserved_until = NULL, reserved_by = NULL WHERE id = ?",
                    (row,),
                )
            else:
                db.execute("DELETE FROM message WHERE id = ?", (row,))

    def _release_all(self) -> None:
        self._reserved.clear()
        with self.db.transaction() as db:
            db.execute(
                "UPDATE message SET reserved_until = NULL, reserved_by = NULL "
                "WHERE reserved_by = ?",
                (self.owner,),
            )

    def _size(self, queue: str) -> int:
        row = (
            self.db.connection()
            .execute("SELECT COUNT(*) FROM message WHERE queue = ?", (queue,))
            .fetchone()
        )
        count: int = row[0]
        return count

    def _purge(self, queue: str) -> int:
        with self.db.transaction() as db:
            deleted: int = db.execute("DELETE FROM message WHERE queue = ?", (queue,)).rowcount
        return deleted

    def _delete(self, queue: str, *args: Any, **kwargs: Any) -> None:
        super()._delete(queue, *args, **kwargs)
        with self.db.transaction() as db:
            db.execute("DELETE FROM binding WHERE queue = ?", (queue,))
            db.execute("DELETE FROM message WHERE queue = ?", (queue,))

    def _has_queue(self, queue: str, **kwargs: Any) -> bool:
        return True

    def _new_queue(self, queue: str, **kwargs: Any) -> None:
        pass


class Transport(virtual.Transport):
    """``kombu.Connection("sqlite:///var/broker.sqlite3", transport=Transport)``."""

    Channel = Channel
    polling_interval = 0.05
    can_parse_url = True
    driver_type = driver_name = "sqlite"
    implements = virtual.Transport.implements.extend(exchange_type=frozenset(["fanout", "direct"]))

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        url = str(client.hostname or "")
        self.database = Database(url.removeprefix("sqlite:///"))
