"""on hand + held + sold == everything put in, whatever happens, and the command says so."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogue.models import Category, Product
from catalogue.services import product_create
from inventory import services
from inventory.selectors import stock_invariant_violations
from souk_common.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_the_command_passes_on_a_consistent_database(make_product, capsys):
    make_product(stock=5)

    call_command("check_stock_invariant")

    assert "holds for 1 product" in capsys.readouterr().out


def test_the_command_fails_when_stock_changed_behind_the_ledger(make_product):
    product = make_product(stock=5)
    Product.objects.filter(pk=product.pk).update(stock=7)  # a write that bypassed the inventory

    with pytest.raises(CommandError, match="broken for 1 product"):
        call_command("check_stock_invariant")


def test_the_invariant_costs_four_queries_whatever_the_catalogue(
    make_product, django_assert_num_queries
):
    for _ in range(30):
        make_product(stock=3)

    with django_assert_num_queries(4):
        assert stock_invariant_violations() == []


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("reserve"),
            st.integers(0, 5),  # reference number
            st.lists(st.tuples(st.integers(0, 2), st.integers(1, 6)), min_size=1, max_size=3),
        ),
        st.tuples(
            st.just("sell"),  # reserve and commit in one step
            st.integers(0, 5),
            st.lists(st.tuples(st.integers(0, 2), st.integers(1, 6)), min_size=1, max_size=3),
        ),
        st.tuples(st.just("release"), st.integers(0, 5), st.just(None)),
        st.tuples(st.just("commit"), st.integers(0, 5), st.just(None)),
        st.tuples(st.just("restock"), st.integers(0, 2), st.integers(0, 30)),
        st.tuples(st.just("retire"), st.integers(0, 2), st.just(None)),
    ),
    max_size=25,
)

run_number = iter(range(1_000_000))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=operations)
def test_any_sequence_of_operations_keeps_the_invariant(operations):
    run = next(run_number)
    category, _ = Category.objects.get_or_create(slug="prop", defaults={"name": "Prop"})
    products = [
        product_create(
            data={
                "sku": f"P{run}-{index}",
                "name": f"P{index}",
                "price": Decimal("1.00"),
                "stock": 5,
                "category": category,
            }
        )
        for index in range(3)
    ]
    for operation, target, argument in operations:
        reference = f"run{run}-ref{target}"
        try:
            if operation in ("reserve", "sell"):
                items = [services.RequestedItem(products[i].pk, q) for i, q in argument]
                services.reservation_reserve(
                    reference=reference, items=items, commit=operation == "sell"
                )
            elif operation == "release":
                services.reservation_release(reference=reference)
            elif operation == "commit":
                services.reservation_commit(reference=reference)
            elif operation == "restock":
                services.stock_set(product=products[target], stock=argument)
            else:
                Product.objects.filter(pk=products[target].pk).update(is_active=False)
        except ApplicationError:
            pass  # refused operations (short stock, conflicts) must leave no trace
        assert stock_invariant_violations(Product.objects.filter(sku__startswith=f"P{run}-")) == []
