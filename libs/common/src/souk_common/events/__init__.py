"""Events between services: a transactional outbox, its relay, and idempotent consumers.

A Django app (``souk_common.events``) that a service adds to its apps when it
publishes or consumes events (contract section 7):

- :func:`souk_common.events.publish.event_publish` stores an event in the service's
  outbox, in the caller's transaction: a change that rolls back publishes nothing.
- ``manage.py relay_events`` sends the outbox, in order, to the service's fanout
  exchange ``souk.<service>``, marking each event sent once the broker confirmed it.
- ``manage.py consume_events`` hands each event on the service's queue to the
  handler registered for its type (:class:`souk_common.events.consume.Handlers`),
  records its id in the inbox in the handler's own transaction, retries a failing
  handler with backoff, and after the last attempt keeps it as a dead letter, which
  ``manage.py dead_letters`` and the admin list and replay.

The broker is RabbitMQ (``BROKER_URL=amqp://...``) or, with no server at all, an
embedded one in an SQLite file (``BROKER_URL=sqlite:///...``, :mod:`.embedded`).
"""
