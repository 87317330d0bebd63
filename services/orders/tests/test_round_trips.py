"""What placing an order costs in round trips to PostgreSQL (docs/benchmarks.md): one to
record it, one to confirm it with its event (``order.confirmed``, into the outbox); an
Idempotency-Key adds its transaction and its answer."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from souk_common.events.models import OutboxEvent
from tests.conftest import place

# No test transaction around the request: its own BEGIN and COMMIT are counted.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_recording_and_confirming_with_its_event_are_one_round_trip_each(alice, products):
    with CaptureQueriesContext(connection) as queries:
        response = place(alice, (1, 2), (2, 1))

    assert response.status_code == 201
    recording, confirming = (query["sql"] for query in queries.captured_queries)
    assert recording.count("INSERT INTO") == 2  # the order and its lines
    assert confirming.count("UPDATE") == 2  # pending -> confirmed, the lines' names and prices
    assert "confirmed" in confirming
    assert f'INSERT INTO "{OutboxEvent._meta.db_table}"' in confirming  # order.confirmed
    assert OutboxEvent.objects.get().envelope["data"]["order_id"] == response.json()["id"]


def test_a_key_adds_its_transaction_and_its_answer(alice, products):
    with CaptureQueriesContext(connection) as queries:
        response = place(alice, (1, 2), (2, 1), key="checkout")

    assert response.status_code == 201
    statements = [query["sql"].split(" ", 1)[0] for query in queries.captured_queries]
    # BEGIN, the key looked up FOR UPDATE, the key, the order and its lines, COMMIT; then the
    # confirmation with its event (the status change in a WITH), and the answer kept under
    # the key.
    assert statements == ["BEGIN", "SELECT", "INSERT", "INSERT", "COMMIT", "WITH", "UPDATE"]
    assert queries.captured_queries[3]["sql"].count("INSERT INTO") == 2
    confirming = queries.captured_queries[5]["sql"]
    assert confirming.count("UPDATE") == 2
    assert f'INSERT INTO "{OutboxEvent._meta.db_table}"' in confirming
