"""What the storefront's pages read from the API, as the shopper of the request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from storefront.clients.gateway import (
    ApiError,
    Cart,
    Category,
    Country,
    Order,
    Page,
    Product,
    Quote,
    gateway,
)
from storefront.shopper import Shopper


def storefront_option(name: str) -> Any:
    """One of ``settings.STOREFRONT``."""
    options: dict[str, Any] = settings.STOREFRONT
    return options[name]


#: Statuses an order may still leave by itself (payment, shipping, the payment timeout).
MOVING_STATUSES = frozenset({"awaiting_payment", "paid"})


def catalogue_page(*, params: Mapping[str, str]) -> Page | None:
    """A page of products: ``params`` are the API's (search, category, ordering, page or
    cursor); None for a page past the last, or a cursor the API does not know."""
    try:
        return gateway().products(params=params, page_size=storefront_option("PAGE_SIZE"))
    except ApiError as error:
        if error.code == "not_found" and "page" in params:
            return None
        if error.code == "validation_error" and "cursor" in params:
            return None
        raise


def category_list() -> list[Category]:
    return gateway().categories()


def product_get(*, product_id: int) -> Product | None:
    """The product, or None when there is no such product on sale."""
    try:
        product = gateway().product(product_id)
    except ApiError as error:
        if error.code == "not_found":
            return None
        raise
    return product


def cart_get(*, shopper: Shopper) -> Cart | None:
    """The shopper's cart with current names and prices; None for a guest with no cart
    (or one that expired, which is then forgotten). Its count is remembered in the
    session for the header (the one thing a read writes: a cache of what it read)."""
    if not shopper.signed_in and not shopper.guest_cart_id:
        shopper.count_items(0)
        return None
    try:
        cart = shopper.call(lambda headers: gateway().cart(headers=headers))
    except ApiError as error:
        if error.code != "not_found" or shopper.signed_in:
            raise
        shopper.forget_cart()
        shopper.count_items(0)
        return None
    shopper.count_items(cart.item_count)
    return cart


def order_list(*, shopper: Shopper, page: int, cursor: str = "") -> Page | None:
    """A page of the shopper's orders, newest first (``cursor``: the page at that
    position); None for a page past the last, or a cursor the API does not know."""
    size: int = storefront_option("PAGE_SIZE")
    try:
        return shopper.call(
            lambda headers: gateway().orders(
                page=page, page_size=size, headers=headers, cursor=cursor
            )
        )
    except ApiError as error:
        if error.code == "not_found" and page > 1:
            return None
        if error.code == "validation_error" and cursor:
            return None
        raise


def order_get(*, shopper: Shopper, order_id: str) -> Order | None:
    """The shopper's order, or None: it does not exist or is someone else's."""
    try:
        return shopper.call(lambda headers: gateway().order(order_id, headers=headers))
    except ApiError as error:
        if error.code == "not_found":
            return None
        raise


def shipping_countries() -> list[Country]:
    return gateway().countries()


def shipping_quote(*, cart: Cart, country: str, postal_code: str) -> Quote | None:
    """What shipping the cart's available lines there costs; None where the shop does
    not ship (or the address is incomplete)."""
    items = [
        {"product_id": line.product_id, "quantity": line.quantity}
        for line in cart.lines
        if line.available
    ]
    if not items or not country:
        return None
    try:
        return gateway().quote(items=items, country=country, postal_code=postal_code)
    except ApiError as error:
        if error.code == "validation_error":
            return None
        raise
