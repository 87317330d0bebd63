"""On PostgreSQL, a row stored in the outbox wakes the relays as its transaction commits.

A trigger on the outbox runs ``pg_notify('souk_events_outbox', '')`` once per statement
that inserts; PostgreSQL delivers it at the commit, to every relay listening on the
channel (souk_common.events.relay), so an event leaves at once instead of at the relay's
next look. Nothing changes for the writer but a notification queued in its transaction.
SQLite has no such thing: there relays look every ``EVENTS_RELAY_POLL_SECONDS``.
"""

from django.db import migrations

# CREATE TRIGGER waits for a lock that holds back every write to the outbox behind it:
# give up after 5 s (the migration fails, and can run again) rather than queue them all.
FORWARD = """
SET LOCAL lock_timeout = '5s';
CREATE OR REPLACE FUNCTION souk_events_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('souk_events_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER souk_events_outbox_notify
AFTER INSERT ON souk_events_outboxevent
FOR EACH STATEMENT EXECUTE FUNCTION souk_events_outbox_notify();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS souk_events_outbox_notify ON souk_events_outboxevent;
DROP FUNCTION IF EXISTS souk_events_outbox_notify();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("souk_events", "0002_outbox_secrets"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
