"""What shoppers do in the storefront, each done through the API as the shopper.

Each function speaks the shop's language and raises :class:`ApiError` with the API's
code when it refuses (``out_of_stock``, ``validation_error``...), for the view to say
in words; the gateway down or busy is the middleware's to answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from souk_common.errors import BadGateway, UpstreamTimeout, UpstreamUnavailable
from storefront.clients.gateway import ApiError, Cart, Order, gateway
from storefront.selectors import cart_get, storefront_option
from storefront.shopper import Shopper

logger = logging.getLogger(__name__)

MAX_QUANTITY = 1000  # the cart's own cap on a line


# Accounts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    """A sign-in, and what became of the guest cart: merged into the account's cart
    (``merged``), none to merge, or left where it was (``cart_left_behind``: the merge
    failed; it is tried again when the shopper opens their cart)."""

    merged: Cart | None = None
    cart_left_behind: bool = False


def account_sign_in(*, shopper: Shopper, username: str, password: str) -> SignedIn:
    """Sign in; the guest cart, if any, is merged into the account's."""
    tokens = gateway().token(username=username, password=password)
    had_guest_cart = bool(shopper.guest_cart_id)
    shopper.sign_in(username, tokens)
    if not had_guest_cart:
        cart_get(shopper=shopper)  # the account's own cart, for the header's count
        return SignedIn()
    return cart_merge_guest(shopper=shopper)


def cart_merge_guest(*, shopper: Shopper) -> SignedIn:
    """The guest cart the session still holds, merged into the signed-in shopper's."""
    guest_cart_id = shopper.guest_cart_id
    if not guest_cart_id or not shopper.signed_in:
        return SignedIn()
    try:
        cart = shopper.call(lambda headers: gateway().cart_merge(guest_cart_id, headers=headers))
    except ApiError as error:
        if error.code == "not_found":  # it expired meanwhile: nothing to merge
            shopper.forget_cart()
            cart_get(shopper=shopper)
            return SignedIn()
        logger.warning("the guest cart could not be merged: %s", error)
        return SignedIn(cart_left_behind=True)
    except (BadGateway, UpstreamTimeout, UpstreamUnavailable) as error:
        logger.warning("the guest cart could not be merged: %s", error)
        return SignedIn(cart_left_behind=True)
    shopper.forget_cart()
    shopper.count_items(cart.item_count)
    return SignedIn(merged=cart)


def account_sign_up(*, shopper: Shopper, username: str, email: str, password: str) -> SignedIn:
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


class CheckoutUnconfirmed(Exception):
    """The API did not answer the checkout in time: the order may or may not be placed.
    The same form (the same key) may be sent again: it can only give that one order."""


def checkout_place(
    *,
    shopper: Shopper,
    shipping_address: Mapping[str, str],
    payment_token: str,
    idempotency_key: str,
) -> Order:
    """Place the order for the shopper's cart: one order per ``idempotency_key`` (one per
    checkout form), however often the form is sent.

    The call waits longer than the gateway gives orders, and is sent again with the same
    key when it got no answer (a timeout, the gateway unreachable) or met a send of the
    same form still being placed (409 ``conflict``), until ``CHECKOUT_WAIT_SECONDS`` have
    passed; then :class:`CheckoutUnconfirmed`.
    """
    body = {"shipping_address": dict(shipping_address), "payment_token": payment_token}
    extra = {"Idempotency-Key": idempotency_key}
    deadline = time.monotonic() + storefront_option("CHECKOUT_WAIT_SECONDS")
    while True:
        try:
            order = shopper.call(
                lambda headers: gateway().checkout(body, headers={**headers, **extra})
            )
        except ApiError as error:
            if error.code != "conflict":
                raise
            unanswered: Exception = error
        except (BadGateway, UpstreamTimeout, UpstreamUnavailable) as error:
            unanswered = error
        else:
            shopper.count_items(0)  # the cart was emptied by the checkout
            return order
        if time.monotonic() > deadline:
            raise CheckoutUnconfirmed from unanswered
        time.sleep(0.25)


def order_cancel(*, shopper: Shopper, order_id: str) -> Order:
    return shopper.call(lambda headers: gateway().order_cancel(order_id, headers=headers))
