"""Idempotency-Key: the first answer again, one order, stock taken once; per user."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from orders import clients
from orders.idempotency import KeyClaim
from orders.models import IdempotencyKey, Order, OrderLine
from souk_common.testing import Dropped
from tests.conftest import client_for, place

pytestmark = pytest.mark.django_db


def test_same_key_same_body_gives_the_first_answer_and_one_order(alice, products):
    first = place(alice, (1, 2), key="checkout-1")
    second = place(alice, (1, 2), key="checkout-1")

    assert second.status_code == first.status_code == 201
    assert second.json() == first.json()
    assert Order.objects.count() == 1
    assert products.count("reserve") == 1
    assert products.stock(1) == 8


def test_a_refusal_is_replayed_too(alice, products):
    first = place(alice, (2, 9), key="too-many")
    second = place(alice, (2, 9), key="too-many")

    assert (first.status_code, second.status_code) == (409, 409)
    assert second.json()["error"]["details"] == first.json()["error"]["details"]
    assert products.count("reserve") == 1


def test_same_key_other_body_is_422(alice, products):
    place(alice, (1, 2), key="checkout-2")

    response = place(alice, (1, 3), key="checkout-2")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


# The first request and the hooks run on threads of their own, with their own database
# connections: what they write must be committed for the others to see it.
@pytest.mark.django_db(transaction=True)
def test_same_key_while_the_first_is_running_is_409(alice, products, settings, token_factory):
    settings.ORDERS_UPSTREAMS = {**settings.ORDERS_UPSTREAMS, "READ_TIMEOUT": 30}
    clients.reset()
    reserving, answered = threading.Event(), threading.Event()

    def hold_the_reservation():
        reserving.set()
        answered.wait(timeout=30)

    products.before["reserve"] = hold_the_reservation
    first = []

    def first_request():
        alice_elsewhere = client_for(token_factory.access(user_id=1, username="alice"))
        first.append(place(alice_elsewhere, (1, 2), key="checkout-3"))
        connection.close()

    running = threading.Thread(target=first_request)
    running.start()
    assert reserving.wait(timeout=30)

    second = place(alice, (1, 2), key="checkout-3")

    answered.set()
    running.join(timeout=30)
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "conflict"
    assert first[0].status_code == 201
    assert place(alice, (1, 2), key="checkout-3").json() == first[0].json()
    assert Order.objects.count() == 1
    assert products.count("reserve") == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_twice_at_once_is_409_for_the_second_and_no_second_order(alice, products):
    # The first request has claimed its key (as order_place has it claimed, in the
    # transaction that records the order) but not committed it when the second looks for
    # the key: the second finds nothing, and waits on the key's unique index.
    claimed, commit = threading.Event(), threading.Event()

    def first_request():
        with transaction.atomic():
            order = Order.objects.create(user_id=1)
            KeyClaim(user_id=1, key="checkout-4")(order, [OrderLine(product_id=1, quantity=2)])
            claimed.set()
            commit.wait(timeout=30)
        connection.close()

    def commit_once_the_second_waits():
        for _ in range(300):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.05)
        commit.set()
        connection.close()

    first = threading.Thread(target=first_request)
    first.start()
    assert claimed.wait(timeout=30)
    watcher = threading.Thread(target=commit_once_the_second_waits)
    watcher.start()

    response = place(alice, (1, 2), key="checkout-4")

    watcher.join()
    first.join()
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Order.objects.count() == 1
    assert products.calls == []


def test_keys_are_per_user(alice, bob, products):
    place(alice, (1, 1), key="shared-key")

    response = place(bob, (1, 1), key="shared-key")

    assert response.status_code == 201
    assert Order.objects.count() == 2


def test_an_expired_key_starts_afresh(alice, products):
    place(alice, (1, 1), key="old-key")
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = place(alice, (1, 1), key="old-key")

    assert response.status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.parametrize("key", ["k" * 256, "", "tab\tkey"])
def test_a_malformed_key_is_400(alice, products, key):
    response = place(alice, (1, 1), key=key)

    assert response.status_code == 400
    assert not Order.objects.exists()


def test_a_key_of_255_characters_is_fine(alice, products):
    assert place(alice, (1, 1), key="k" * 255).status_code == 201


def test_a_failed_order_answer_is_kept_with_its_retry_after(alice, products):
    products.failures["reserve"] = Dropped()

    first = place(alice, (1, 1), key="during-outage")
    products.failures.clear()
    second = place(alice, (1, 1), key="during-outage")

    assert (first.status_code, second.status_code) == (503, 503)
    assert (first["Retry-After"], second["Retry-After"]) == ("2", "1")
    assert second.json() == first.json()
    assert Order.objects.count() == 1


def test_purging_deletes_only_expired_keys(alice, products):
    place(alice, (1, 1), key="fresh")
    place(alice, (1, 1), key="stale")
    IdempotencyKey.objects.filter(key="stale").update(expires_at=timezone.now())

    call_command("purge_idempotency_keys")

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
