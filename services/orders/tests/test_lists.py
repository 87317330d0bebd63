"""The order lists at any size: ``?status=``, the count rule, cursors past it, and a plan
from an index for each list (on PostgreSQL; the rest on SQLite too, `nox -s sqlite`)."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order
from souk_common.pagination import CappedCountPaginator

pytestmark = pytest.mark.django_db

LIMIT = 4


@pytest.fixture
def count_limit(monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "count_limit", LIMIT)


def orders(user_id, *statuses):
    return [Order.objects.create(user_id=user_id, status=status) for status in statuses]


def walk(client, query):
    seen, response = [], client.get("/api/orders/", query)
    for _ in range(50):
        assert response.status_code == 200, response.json()
        body = response.json()
        seen += [order["id"] for order in body["results"]]
        if body["next"] is None:
            return seen
        response = client.get(body["next"])
    raise AssertionError("the next links go round in circles")


def newest_first(rows):
    return [str(o.pk) for o in sorted(rows, key=lambda o: (o.created_at, o.pk), reverse=True)]


def test_users_and_staff_filter_by_status(alice, bob, staff):
    paid = orders(1, "paid", "paid")
    orders(1, "shipped")
    bobs = orders(2, "paid")

    mine = alice.get("/api/orders/", {"status": "paid"}).json()
    everyones = staff.get("/api/orders/", {"status": "paid"}).json()
    bobs_paid = staff.get("/api/orders/", {"status": "paid", "user_id": 2}).json()

    assert [o["id"] for o in mine["results"]] == newest_first(paid)
    assert everyones["count"] == 3
    assert [o["id"] for o in bobs_paid["results"]] == newest_first(bobs)


def test_a_status_that_does_not_exist_is_400(alice):
    response = alice.get("/api/orders/", {"status": "lost"})

    assert response.status_code == 400
    assert "status" in response.json()["error"]["details"]


def test_a_users_user_id_is_ignored_even_when_it_is_no_number(alice):
    orders(1, "paid")

    body = alice.get("/api/orders/", {"user_id": "x"}).json()

    assert body["count"] == 1


def test_count_stops_at_the_limit_and_cursors_go_on_newest_first(staff, count_limit):
    placed = orders(1, *["paid"] * (LIMIT + 3)) + orders(2, *["shipped"] * 2)

    first = staff.get("/api/orders/", {"page_size": 2}).json()
    seen = walk(staff, {"page_size": 2})

    assert first["count"] == LIMIT
    assert seen == newest_first(placed)


def test_cursors_keep_the_filters(alice, count_limit):
    paid = orders(1, *["paid"] * (LIMIT + 3))
    orders(1, "shipped", "shipped")
    orders(2, "paid")

    assert walk(alice, {"page_size": 3, "status": "paid"}) == newest_first(paid)


def test_orders_created_in_the_same_instant_are_each_listed_once(staff, count_limit):
    placed = orders(1, *["paid"] * (LIMIT + 3))
    Order.objects.update(created_at=placed[0].created_at)  # one timestamp: all ties

    assert walk(staff, {"page_size": 2}) == newest_first(Order.objects.all())


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("who", "query", "index"),
    [
        ("alice", {}, "order_user_created_id"),
        ("staff", {}, "order_created_id"),
        ("staff", {"status": "paid"}, "order_status_created_id"),
        ("staff", {"user_id": 1, "status": "paid"}, "order_"),
    ],
)
def test_each_list_is_answered_from_an_index(request, who, query, index):
    client = request.getfixturevalue(who)
    statuses = ["paid", "shipped", "confirmed", "cancelled"]
    Order.objects.bulk_create(
        Order(user_id=n % 500 + 1, status=statuses[n % 4]) for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/orders/", query).status_code == 200
    page = next(
        q["sql"]
        for q in queries
        if "LIMIT" in q["sql"] and "orders_order" in q["sql"] and "COUNT" not in q["sql"]
    )

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {page}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert f"using {index}" in plan.lower(), plan
    assert "Sort" not in plan, plan


@pytest.mark.django_db(transaction=True)
def test_the_index_migration_builds_concurrently_on_postgresql():
    from io import StringIO

    out = StringIO()
    call_command("sqlmigrate", "orders", "0004", stdout=out)
    creates = [line for line in out.getvalue().splitlines() if line.startswith("CREATE INDEX")]

    assert len(creates) == 3
    if connection.vendor == "postgresql":
        assert all(line.startswith("CREATE INDEX CONCURRENTLY") for line in creates)
