"""Carts in the service's own database (cart.models), when no ``REDIS_URL`` is set.

Every change is one transaction that first locks the cart's row (``select_for_update``;
on SQLite every transaction here takes the write lock at BEGIN, being IMMEDIATE), so
two changes to one cart run one after the other and neither is lost. A user's row is
made with ``INSERT ... ON CONFLICT DO NOTHING`` before it is locked, so two first
changes cannot both make one. A merge locks both carts in the order of their primary
keys, so two merges never wait on each other.

An expired cart is gone, as in Redis: reads skip it and changes find it missing (a
user's starts again, empty, when a line is put in it); ``purge_carts`` deletes the rows.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cart.models import Cart, CartLine
from cart.stores import (
    MAX_LINES,
    MAX_QUANTITY,
    CartFull,
    CartMissing,
    CartRef,
    CartState,
    CartStore,
)

#: Expired carts deleted per transaction by purge_expired.
PURGE_BATCH = 1000


def _owner(ref: CartRef) -> Q:
    if ref.user_id is not None:
        return Q(user_id=ref.user_id)
    return Q(guest_id=ref.guest_id)


class DatabaseCartStore(CartStore):
    def create_guest(self, guest_id: str) -> CartState:
        cart = Cart.objects.create(guest_id=guest_id, expires_at=self.expiry())
        return CartState(CartRef.guest(guest_id), {}, cart.expires_at)

    def get(self, ref: CartRef) -> CartState | None:
        cart = Cart.objects.filter(_owner(ref), expires_at__gt=timezone.now()).first()
        return None if cart is None else self._state(ref, cart)

    def set_line(self, ref: CartRef, *, product_id: int, quantity: int) -> CartState:
        with transaction.atomic():
            cart = self._locked(ref, make=ref.is_user)
            lines = CartLine.objects.filter(cart=cart)
            if not lines.filter(product_id=product_id).update(quantity=quantity):
                if lines.count() >= MAX_LINES:
                    raise CartFull()
                CartLine.objects.create(cart=cart, product_id=product_id, quantity=quantity)
            return self._touched(ref, cart)

    def remove_line(self, ref: CartRef, *, product_id: int) -> CartState:
        with transaction.atomic():
            cart = self._locked(ref)
            CartLine.objects.filter(cart=cart, product_id=product_id).delete()
            return self._touched(ref, cart)

    def clear(self, ref: CartRef) -> CartState:
        with transaction.atomic():
            cart = self._locked(ref)
            CartLine.objects.filter(cart=cart).delete()
            return self._touched(ref, cart)

    def merge(self, *, source: CartRef, target: CartRef) -> CartState:
        with transaction.atomic():
            self._make(target)
            carts = Cart.objects.select_for_update().filter(_owner(source) | _owner(target))
            locked = {cart.user_id is not None: cart for cart in carts.order_by("pk")}
            guest_cart, user_cart = locked.get(False), locked[True]
            if guest_cart is None or self._expired(guest_cart):
                raise CartMissing()  # and the user's cart made above is not made after all
            if self._expired(user_cart):
                CartLine.objects.filter(cart=user_cart).delete()
            held = {line.product_id: line for line in CartLine.objects.filter(cart=user_cart)}
            added = []
            for line in CartLine.objects.filter(cart=guest_cart):
                if line.product_id in held:
                    mine = held[line.product_id]
                    mine.quantity = min(mine.quantity + line.quantity, MAX_QUANTITY)
                else:
                    added.append(
                        CartLine(cart=user_cart, product_id=line.product_id, quantity=line.quantity)
                    )
            if len(held) + len(added) > MAX_LINES:
                raise CartFull()
            CartLine.objects.bulk_update(held.values(), ["quantity"])
            CartLine.objects.bulk_create(added)
            CartLine.objects.filter(cart=guest_cart).delete()
            guest_cart.delete()
            return self._touched(target, user_cart)

    def purge_expired(self) -> int:
        deleted = 0
        while True:
            with transaction.atomic():
                # Locked, so a change that renews one of them waits and then finds it gone;
                # one being changed now is left for the next purge.
                expired = Cart.objects.select_for_update(skip_locked=True).filter(
                    expires_at__lte=timezone.now()
                )
                ids = list(expired.values_list("pk", flat=True)[:PURGE_BATCH])
                CartLine.objects.filter(cart_id__in=ids).delete()
                Cart.objects.filter(pk__in=ids).delete()
            deleted += len(ids)
            if len(ids) < PURGE_BATCH:
                return deleted

    # Inside a change's transaction ------------------------------------------------------

    def _make(self, ref: CartRef) -> None:
        """Make a user's cart unless they have one (a guest's is made by create_guest)."""
        if ref.user_id is not None:
            Cart.objects.bulk_create(
                [Cart(user_id=ref.user_id, expires_at=self.expiry())], ignore_conflicts=True
            )

    def _locked(self, ref: CartRef, *, make: bool = False) -> Cart:
        """The cart's row, locked until the transaction ends (made first if ``make``).

        An expired cart is missing, unless it is to be made: then it starts again, empty.
        """
        for _attempt in range(2):
            if make:
                self._make(ref)
            cart = Cart.objects.select_for_update().filter(_owner(ref)).first()
            if cart is not None:
                break
            if not make:
                raise CartMissing()
            # Purged while this waited for its lock: made again, once.
        if cart is None or (self._expired(cart) and not make):
            raise CartMissing()
        if self._expired(cart):
            CartLine.objects.filter(cart=cart).delete()
        return cart

    @staticmethod
    def _expired(cart: Cart) -> bool:
        return cart.expires_at <= timezone.now()

    def _touched(self, ref: CartRef, cart: Cart) -> CartState:
        """The cart after a change, which moves its expiry."""
        cart.expires_at = self.expiry()
        cart.save(update_fields=["expires_at", "updated_at"])
        return self._state(ref, cart)

    @staticmethod
    def _state(ref: CartRef, cart: Cart) -> CartState:
        lines = CartLine.objects.filter(cart=cart).order_by("product_id")
        return CartState(ref, dict(lines.values_list("product_id", "quantity")), cart.expires_at)
