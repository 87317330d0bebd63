"""Writes of the cart app: ``cart_<action>(*, ...)``, keyword-only and typed.

Each change is one atomic operation of the cart store (cart.stores), which moves the
cart's expiry; the answer is the cart after it, priced by products (cart.selectors).
Putting a product in a cart asks products about it first, together with the cart's
other products, so that the cart is then usually priced from that same answer: one call.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable

from cart import clients
from cart.selectors import CartNotFound, CartView, cart_priced, cart_state
from cart.stores import MAX_LINES, CartFull, CartMissing, CartRef, CartState, cart_store
from souk_common.errors import InvalidInput

#: 24 random bytes: 192 bits, 32 URL-safe characters.
GUEST_ID_BYTES = 24
#: What a guest cart's id looks like (base64url, unpadded); nothing else names one.
GUEST_ID = re.compile(rf"[A-Za-z0-9_-]{{{math.ceil(GUEST_ID_BYTES * 4 / 3)}}}")


class ProductUnavailable(InvalidInput):
    """The product does not exist or is retired: it cannot be put in a cart."""

    def __init__(self, product_id: int) -> None:
        super().__init__(
            f"Product {product_id} does not exist or is retired.",
            details={
                "product_id": [f"Product {product_id} does not exist or is retired."],
                "unavailable_products": [product_id],
            },
        )


class CartTooLong(InvalidInput):
    """The change would give the cart more than MAX_LINES lines."""

    def __init__(self, field: str) -> None:
        message = f"A cart holds at most {MAX_LINES} products."
        super().__init__(message, details={field: [message]})


def cart_create() -> CartView:
    """A new, empty guest cart, named by an unguessable id."""
    state = cart_store().create_guest(secrets.token_urlsafe(GUEST_ID_BYTES))
    return cart_priced(state=state)


def cart_line_set(*, ref: CartRef, product_id: int, quantity: int) -> CartView:
    """Put ``quantity`` of a product in the cart (replacing what it held of it).

    The product must be on sale now; a new line needs room (at most MAX_LINES).
    """
    held = cart_state(ref=ref)
    catalogue = clients.products().catalogue({*held.lines, product_id})
    if product_id not in catalogue.on_sale:
        raise ProductUnavailable(product_id)
    try:
        state = cart_store().set_line(ref, product_id=product_id, quantity=quantity)
    except CartMissing:
        raise CartNotFound() from None
    except CartFull:
        raise CartTooLong("product_id") from None
    return cart_priced(state=state, catalogue=catalogue)


def cart_line_remove(*, ref: CartRef, product_id: int) -> CartView:
    """Take a product out of the cart (not in it: nothing to do, still a change)."""
    state = _changed(ref, lambda: cart_store().remove_line(ref, product_id=product_id))
    return cart_priced(state=state)


def cart_clear(*, ref: CartRef) -> CartView:
    """Empty the cart; a guest's stays, empty, under its id."""
    return cart_priced(state=_changed(ref, lambda: cart_store().clear(ref)))


def cart_merge(*, user_id: int, guest_id: str) -> CartView:
    """Add a guest cart's lines to the user's (quantities summed, capped) and delete it.

    An unknown or expired guest cart is not found; a merge that would give the user's
    cart more than MAX_LINES lines is refused, and changes nothing.
    """
    try:
        state = cart_store().merge(source=CartRef.guest(guest_id), target=CartRef.user(user_id))
    except CartMissing:
        raise CartNotFound() from None
    except CartFull:
        raise CartTooLong("cart_id") from None
    return cart_priced(state=state)


def carts_purge() -> int:
    """Delete expired carts the store keeps (Redis deletes its own); how many."""
    return cart_store().purge_expired()


def _changed(ref: CartRef, change: Callable[[], CartState]) -> CartState:
    """The cart after ``change``; a user with no cart has an empty one, unchanged."""
    try:
        return change()
    except CartMissing:
        if ref.is_user:
            return CartState(ref)
        raise CartNotFound() from None
