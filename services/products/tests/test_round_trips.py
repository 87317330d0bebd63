"""Round trips to PostgreSQL of the inventory's writes (docs/benchmarks.md, "Load").

While product rows are locked, every other order for those products waits, so the
writes made then go in one round trip and the commit is the only other one.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import Product
from inventory import services
from inventory.models import Reservation, ReservationLine, StockMovement
from souk_common.sql import table

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def sent(operation):
    """The statements ``operation`` sends, one per round trip (BEGIN and COMMIT included)."""
    with CaptureQueriesContext(connection) as captured:
        operation()
    return [query["sql"] for query in captured.captured_queries]


def while_products_locked(statements):
    """The statements from the one that locks product rows to the commit that frees them."""
    locking = next(
        index
        for index, sql in enumerate(statements)
        if sql.startswith("SELECT") and table(Product) in sql and sql.endswith("FOR UPDATE")
    )
    return statements[locking + 1 : statements.index("COMMIT") + 1]


def items(*products):
    return [services.RequestedItem(product.pk, 2) for product in products]


@pytest.mark.parametrize("commit", [False, True], ids=["reserve", "reserve and sell"])
def test_reserving_sends_stock_lines_and_ledger_in_one_round_trip(make_product, commit):
    tea, pot = make_product(stock=10), make_product(stock=10)

    statements = sent(
        lambda: services.reservation_reserve(reference="r-1", items=items(tea, pot), commit=commit)
    )

    assert len(statements) == 5  # BEGIN, the reservation, the products locked, the writes, COMMIT
    writes, last = while_products_locked(statements)
    assert last == "COMMIT"
    for written in (f"UPDATE {table(Product)}", table(ReservationLine), table(StockMovement)):
        assert written in writes
    assert Reservation.objects.get(reference="r-1").lines.count() == 2
    assert Product.objects.get(pk=tea.pk).stock == 8


@pytest.mark.parametrize("sold", [False, True], ids=["held", "sold"])
def test_releasing_sends_stock_ledger_and_status_in_one_round_trip(make_product, sold):
    tea = make_product(stock=10)
    services.reservation_reserve(reference="r-2", items=items(tea), commit=sold)

    statements = sent(lambda: services.reservation_release(reference="r-2"))

    # BEGIN, the reservation locked, its lines, the products locked, the writes, COMMIT
    assert len(statements) == 6
    writes, last = while_products_locked(statements)
    assert last == "COMMIT"
    for written in (f"UPDATE {table(Product)}", table(StockMovement), table(Reservation)):
        assert written in writes
    assert Reservation.objects.get(reference="r-2").status == "released"
    assert Product.objects.get(pk=tea.pk).stock == 10


def test_committing_sends_status_and_ledger_in_one_round_trip(make_product):
    tea = make_product(stock=10)
    services.reservation_reserve(reference="r-3", items=items(tea))

    statements = sent(lambda: services.reservation_commit(reference="r-3"))

    # BEGIN, the reservation locked, its lines, its move and the ledger, COMMIT
    assert len(statements) == 5
    assert not any(table(Product) in sql for sql in statements)  # no product row is locked
    assert Reservation.objects.get(reference="r-3").status == "committed"


def test_setting_stock_sends_stock_and_ledger_in_one_round_trip(make_product):
    tea = make_product(stock=10)

    statements = sent(lambda: services.stock_set(product=tea, stock=15))

    assert len(statements) == 5  # BEGIN, the product locked, the writes, COMMIT, the new figure
    writes, last = while_products_locked(statements)
    assert last == "COMMIT"
    assert f"UPDATE {table(Product)}" in writes
    assert table(StockMovement) in writes
    assert tea.stock == 15
