"""The admin shows the embedded store's carts and their lines, read-only."""

import re

import pytest

from cart.models import Cart
from tests.conftest import new_guest_cart, put

pytestmark = pytest.mark.django_db


def test_staff_see_carts_and_their_lines_and_change_nothing(admin_client, alice, catalogue):
    cart_id, guest = new_guest_cart()
    put(guest, 1, 2)
    put(alice, 2, 3)
    cart = Cart.objects.get(user_id=1)

    listed = admin_client.get("/admin/cart/cart/")
    page = admin_client.get(f"/admin/cart/cart/{cart.pk}/change/")
    changed = admin_client.post(f"/admin/cart/cart/{cart.pk}/change/", {"user_id": "9"})
    added = admin_client.get("/admin/cart/cart/add/")

    assert listed.status_code == 200
    assert cart_id in listed.content.decode()
    assert page.status_code == 200
    assert b"View cart" in page.content
    cells = re.findall(r'<td class="field-(\w+)">\s*<p>(\d+)</p>', page.content.decode())
    assert cells == [("product_id", "2"), ("quantity", "3")]
    assert changed.status_code == 403
    assert Cart.objects.get(pk=cart.pk).user_id == 1
    assert added.status_code == 403
