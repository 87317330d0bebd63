"""Staff commands: show_cart prints a cart wherever it lives; purge_carts deletes expired
carts from the embedded store."""

import json
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cart.models import Cart
from souk_common.testing import Dropped
from tests.conftest import new_guest_cart, put

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.usefixtures("store")
def test_show_cart_prints_a_guest_cart_with_names_and_prices(catalogue):
    cart_id, guest = new_guest_cart()
    put(guest, 1, 2)
    put(guest, 2, 1)
    catalogue.retire(2)

    out, _ = run("show_cart", "--", cart_id)  # a guest id may start with "-"

    assert out.splitlines()[0].startswith(f"cart {cart_id}, expires ")
    assert "product 1: Sencha, 2 x 9.50 = 19.00" in out
    assert "product 2: NOT ON SALE (unknown or retired), 1" in out
    assert out.splitlines()[-1] == "3 item(s), subtotal 19.00"


@pytest.mark.usefixtures("store")
def test_show_cart_prints_a_users_cart_as_the_api_answers_it(alice, catalogue):
    put(alice, 1, 2)

    out, _ = run("show_cart", "user:1", "--json")

    assert json.loads(out) == alice.get("/api/cart/").json()


@pytest.mark.usefixtures("store")
def test_show_cart_without_products_prints_the_quantities(catalogue):
    cart_id, guest = new_guest_cart()
    put(guest, 1, 2)
    catalogue.failure = Dropped()

    out, err = run("show_cart", "--", cart_id)

    assert "Not priced" in err
    assert "product 1: 2" in out


@pytest.mark.usefixtures("store")
@pytest.mark.parametrize("name", ["A" * 32, "user:x"])
def test_show_cart_of_no_cart_fails_saying_so(catalogue, name):
    with pytest.raises(CommandError):
        run("show_cart", name)


def test_purge_carts_deletes_expired_carts_and_only_them(settings, alice, catalogue):
    settings.CART_TTL_SECONDS = 1
    _, expired_guest = new_guest_cart()
    put(expired_guest, 1, 1)
    put(alice, 1, 1)
    time.sleep(1.2)
    settings.CART_TTL_SECONDS = 60
    live_id, live = new_guest_cart()
    put(live, 2, 1)

    out, _ = run("purge_carts")

    assert out.strip() == "deleted 2 expired cart(s)"
    assert list(Cart.objects.values_list("guest_id", flat=True)) == [live_id]
    assert [line["quantity"] for line in live.get("/api/cart/").json()["items"]] == [1]


def test_purge_carts_has_nothing_to_do_with_redis(settings, catalogue):
    from tests.conftest import use_store

    cleanup = use_store("redis", settings)
    try:
        out, _ = run("purge_carts")
    finally:
        cleanup()

    assert out.strip() == "deleted 0 expired cart(s)"
