"""What shoppers do in the storefront, each done through the API as the shopper.

Each function speaks the shop's language and raises :class:`ApiError` with the API's
code when it refuses (``out_of_stock``, ``validation_error``...), for the view to say
in words; the gateway down or busy is the middleware's to answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from storefront.clients.gateway import ApiError, Cart, Order, gateway
from storefront.selectors import cart_get, storefront_option
from storefront.shopper import Shopper

logger = logging.getLogger(__name__)

MAX_QUANTITY = 1000  # the cart's own cap on a line


# Accounts ---------------------------------------------------------------------------


def account_sign_in(*, shopper: Shopper, username: str, password: str) -> Cart | None:
    """Sign in; the guest cart, if any, is merged into the account's. Returns the merged
    cart, or None when there was no guest cart to merge."""
    tokens = gateway().token(username=username, password=password)
    guest_cart_id = shopper.guest_cart_id
    shopper.sign_in(username, tokens)
    if not guest_cart_id:
        cart_get(shopper=shopper)  # the account's own cart, for the header's count
        return None
    try:
        cart = shopper.call(lambda headers: gateway().cart_merge(guest_cart_id, headers=headers))
    except ApiError as error:
        if error.status != 404:  # the guest cart expired meanwhile: nothing to merge
            raise
        cart_get(shopper=shopper)
        return None
    finally:
        shopper.forget_cart()
    shopper.count_items(cart.item_count)
    return cart


def account_sign_up(*, shopper: Shopper, username: str, email: str, password: str) -> Cart | None:
    """Open an account and sign in to it (merging the guest cart, as a sign-in does)."""
    gateway().sign_up(username=username, email=email, password=password)
    return account_sign_in(shopper=shopper, username=username, password=password)


def account_sign_out(*, shopper: Shopper) -> None:
    """The refresh token revoked (when the API can be reached), and the session gone."""
    refresh = shopper.refresh_token
    try:
        if refresh:
            gateway().sign_out(refresh)
    except Exception:
        logger.warning("sign-out: the refresh token could not be revoked", exc_info=True)
    shopper.sign_out()


def password_reset_request(*, email: str) -> None:
    gateway().password_reset(email=email)


def password_reset_confirm(*, token: str, new_password: str) -> None:
    gateway().password_reset_confirm(token=token, new_password=new_password)


def email_verify(*, token: str) -> None:
    gateway().verify_email(token=token)


# Cart -------------------------------------------------------------------------------


def _ensure_cart(shopper: Shopper) -> None:
    """A guest with no cart gets one now (a signed-in shopper always has theirs)."""
    if not shopper.signed_in and not shopper.guest_cart_id:
        shopper.remember_cart(gateway().cart_create().id)


def cart_add(*, shopper: Shopper, product_id: int, quantity: int) -> Cart:
    """``quantity`` more of the product in the cart (a line holds at most 1,000)."""
    cart = cart_get(shopper=shopper)  # None: a guest whose cart is new, or expired
    current = 0
    if cart is not None:
        current = next((line.quantity for line in cart.lines if line.product_id == product_id), 0)
    return cart_set(
        shopper=shopper, product_id=product_id, quantity=min(current + quantity, MAX_QUANTITY)
    )


def cart_set(*, shopper: Shopper, product_id: int, quantity: int) -> Cart:
    """The line holds ``quantity`` of the product (0 removes it)."""
    if quantity <= 0:
        return cart_remove(shopper=shopper, product_id=product_id)
    _ensure_cart(shopper)
    cart = shopper.call(lambda headers: gateway().cart_set(product_id, quantity, headers=headers))
    shopper.count_items(cart.item_count)
    return cart


def cart_remove(*, shopper: Shopper, product_id: int) -> Cart:
    _ensure_cart(shopper)
    cart = shopper.call(lambda headers: gateway().cart_remove(product_id, headers=headers))
    shopper.count_items(cart.item_count)
    return cart


def cart_refill(*, shopper: Shopper, order: Order) -> Cart | None:
    """The lines of an order (one whose payment failed, say) back in the cart."""
    cart = None
    for line in order.lines:
        cart = cart_add(shopper=shopper, product_id=line.product_id, quantity=line.quantity)
    return cart


# Checkout and orders -----------------------------------------------------------------


def checkout_place(
    *,
    shopper: Shopper,
    shipping_address: Mapping[str, str],
    payment_token: str,
    idempotency_key: str,
) -> Order:
    """Place the order for the shopper's cart: one order per ``idempotency_key`` (one per
    checkout form), however often the form is sent.

    A second send while the first is still being placed is refused by the API with 409
    ``conflict``; it waits here for the first to finish (up to ``CHECKOUT_WAIT_SECONDS``)
    and gets the same answer the first got.
    """
    body = {"shipping_address": dict(shipping_address), "payment_token": payment_token}
    headers_extra = {"Idempotency-Key": idempotency_key}
    deadline = time.monotonic() + storefront_option("CHECKOUT_WAIT_SECONDS")
    while True:
        try:
            order = shopper.call(
                lambda headers: gateway().checkout(body, headers={**headers, **headers_extra})
            )
        except ApiError as error:
            if error.code != "conflict" or time.monotonic() > deadline:
                raise
            time.sleep(0.25)
            continue
        shopper.count_items(0)  # the cart was emptied by the checkout
        return order


def order_cancel(*, shopper: Shopper, order_id: str) -> Order:
    return shopper.call(lambda headers: gateway().order_cancel(order_id, headers=headers))
