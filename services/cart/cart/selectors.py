"""Reads of the cart app: a cart as its owner sees it, priced by the products service now.

Names and prices are never stored with a cart: each view asks products about every
product in it, in one call. A product products does not answer for (unknown, or retired
since it was put in the cart) is shown ``available: false`` with no price, and left out
of the subtotal: flagged, never silently priced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cart import clients
from cart.clients.products import Catalogue
from cart.stores import CartRef, CartState, cart_store
from souk_common.errors import NotFound


class CartNotFound(NotFound):
    default_message = "No such cart: it does not exist or has expired."


@dataclass(frozen=True)
class CartLineView:
    product_id: int
    name: str | None
    unit_price: Decimal | None
    quantity: int
    line_total: Decimal | None
    available: bool


@dataclass(frozen=True)
class CartView:
    id: str
    items: tuple[CartLineView, ...]
    subtotal: Decimal
    item_count: int
    expires_at: datetime | None


def cart_state(*, ref: CartRef) -> CartState:
    """What the store holds for the cart: a guest's that is gone is not found; a user with
    no cart has an empty one."""
    state = cart_store().get(ref)
    if state is not None:
        return state
    if ref.is_user:
        return CartState(ref)
    raise CartNotFound()


def cart_get(*, ref: CartRef) -> CartView:
    """The cart, priced now."""
    return cart_priced(state=cart_state(ref=ref))


def cart_priced(*, state: CartState, catalogue: Catalogue | None = None) -> CartView:
    """The cart with names and prices from ``catalogue``, or asked of products for those
    it does not cover (one call)."""
    if catalogue is None or not catalogue.covers(state.lines):
        catalogue = clients.products().catalogue(state.lines)
    items = []
    for product_id, quantity in state.lines.items():
        product = catalogue.on_sale.get(product_id)
        if product is None:
            items.append(CartLineView(product_id, None, None, quantity, None, available=False))
        else:
            total = product.price * quantity
            items.append(
                CartLineView(product_id, product.name, product.price, quantity, total, True)
            )
    return CartView(
        id=state.ref.public_id,
        items=tuple(items),
        subtotal=sum(
            (line.line_total for line in items if line.line_total is not None), Decimal("0.00")
        ),
        item_count=sum(line.quantity for line in items),
        expires_at=state.expires_at,
    )
