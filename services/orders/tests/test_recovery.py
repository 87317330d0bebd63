"""reconcile_orders: every unsettled order ends settled, with its stock returned."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders import clients
from orders.models import IdempotencyKey, Order
from orders.services import orders_reconcile
from souk_common.testing import Dropped, Hung
from tests.conftest import place

pytestmark = pytest.mark.django_db


def age(order_id, seconds=120):
    Order.objects.filter(pk=order_id).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def test_an_order_left_pending_by_a_crash_is_released_and_failed(products):
    # A crash after the reservation, before the commit: stock held, order pending.
    order = Order.objects.create(user_id=1)
    order.lines.create(product_id=1, quantity=3)
    clients.products().reserve(order.reference, [(1, 3)])
    assert products.stock(1) == 7
    age(order.pk)

    call_command("reconcile_orders", "--grace", "30")

    order.refresh_from_db()
    assert order.status == "failed"
    assert products.stock(1) == 10


def test_a_recent_pending_order_is_left_to_its_saga(products):
    order = Order.objects.create(user_id=1)

    counts = orders_reconcile(grace=timedelta(seconds=30))

    assert counts == {"failed": 0, "cancelled": 0, "left": 0}
    assert Order.objects.get(pk=order.pk).status == "pending"
    assert products.calls == []


def test_a_pending_order_never_reserved_is_released_all_the_same(products):
    # Its reservation may still be on the wire: the release refuses it in advance.
    order = Order.objects.create(user_id=1)
    age(order.pk)

    counts = orders_reconcile(grace=timedelta(seconds=30))

    assert counts == {"failed": 1, "cancelled": 0, "left": 0}
    assert products.calls == [("release", order.reference)]
    assert Order.objects.get(pk=order.pk).status == "failed"


def test_failing_and_cancelling_orders_are_finished(products):
    failing = Order.objects.create(user_id=1, status="failing")
    cancelling = Order.objects.create(user_id=1, status="cancelling")
    age(failing.pk)
    age(cancelling.pk)

    counts = orders_reconcile(grace=timedelta(seconds=30))

    assert counts == {"failed": 1, "cancelled": 1, "left": 0}
    assert Order.objects.get(pk=failing.pk).status == "failed"
    assert Order.objects.get(pk=cancelling.pk).status == "cancelled"
    assert sorted(products.calls) == sorted(
        [("release", failing.reference), ("release", cancelling.reference)]
    )


def test_while_products_is_down_orders_wait_for_the_next_run(products):
    order = Order.objects.create(user_id=1)
    age(order.pk)
    products.failures["release"] = Dropped()

    assert orders_reconcile(grace=timedelta(seconds=30))["left"] == 1
    assert Order.objects.get(pk=order.pk).status == "failing"

    products.failures.clear()
    assert orders_reconcile(grace=timedelta(seconds=30))["failed"] == 1


def test_the_key_of_a_recovered_order_gets_its_final_answer(alice, products):
    products.failures["reserve"] = Hung(seconds=1)
    products.failures["release"] = Hung(seconds=1)
    first = place(alice, (1, 1), key="stuck")
    assert first.status_code == 504
    assert place(alice, (1, 1), key="stuck").status_code == 409  # still being settled

    products.failures.clear()
    age(Order.objects.get().pk)
    orders_reconcile(grace=timedelta(seconds=30))

    replay = place(alice, (1, 1), key="stuck")
    assert replay.status_code == 503
    assert replay["Retry-After"] == "1"
    error = replay.json()["error"]
    assert error["code"] == "upstream_unavailable"
    assert error["message"] == "The order could not be completed; nothing was charged."
    assert error["details"]["order_id"] == first.json()["error"]["details"]["order_id"]
    assert error["details"]["order_status"] == "failed"
    assert IdempotencyKey.objects.get().state == "done"


# The hooks run on the fake products' thread, with its own database connection: the
# order must be committed for them to see it.
@pytest.mark.django_db(transaction=True)
def test_a_reservation_that_arrives_after_recovery_released_its_order_fails_it(alice, products):
    # The saga's reservation is still on the wire when recovery settles the order: products
    # refuses it (the release came first), and the client is told the order failed.
    products.before["reserve"] = lambda: orders_reconcile(grace=timedelta(0))

    response = place(alice, (1, 2))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "upstream_unavailable"
    assert response.json()["error"]["details"]["order_status"] == "failed"
    assert Order.objects.get().status == "failed"
    assert products.stock(1) == 10
    # Released first (the order named from the catalogue as it failed), then refused.
    assert [name for name, _ in products.calls] == ["release", "catalogue", "reserve"]


@pytest.mark.django_db(transaction=True)
def test_when_recovery_takes_the_order_while_products_answers_it_is_not_confirmed(alice, products):
    def recovery_takes_over(answer):
        Order.objects.filter(status="pending").update(status="failing")
        return json.dumps(answer)

    products.garble["reserve"] = recovery_takes_over

    response = place(alice, (1, 2))

    assert response.status_code == 503
    assert response.json()["error"]["details"]["order_status"] == "failing"
    order = Order.objects.get()
    assert (order.status, order.total) == ("failing", None)
    assert [(line.name, line.unit_price) for line in order.lines.all()] == [("", None)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_a_schedule_the_reconciler_touches_its_heartbeat_each_round(tmp_path):
    """Run as it is deployed (``reconcile_orders --every``, a process of its own): the file
    a liveness probe reads is touched as its rounds go by (souk_common.heartbeat)."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.db import connection

    db = connection.settings_dict
    beating = tmp_path / "heartbeat"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "orders_service.settings",
        "SOUK_ENV": "development",
        "SOUK_VAR_DIR": str(tmp_path),
        "ORDERS_DATABASE_URL": (f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"),
        "HEARTBEAT_FILE": str(beating),
    }
    reconciler = subprocess.Popen(
        [sys.executable, "manage.py", "reconcile_orders", "--every", "0.2"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.DEVNULL,
    )

    def touched_after(mtime: int) -> bool:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and reconciler.poll() is None:
            if beating.exists() and beating.stat().st_mtime_ns > mtime:
                return True
            time.sleep(0.1)
        return False

    try:
        assert touched_after(0)
        assert touched_after(beating.stat().st_mtime_ns)  # a later round, 5 s on
    finally:
        reconciler.terminate()
        reconciler.wait(10)
