"""Where carts live: one interface, two stores, chosen from the settings.

- :class:`~cart.stores.redis_store.RedisCartStore` when ``REDIS_URL`` is set: a hash per
  cart (a field per product id holding its quantity), expiring on its own.
- :class:`~cart.stores.database_store.DatabaseCartStore` otherwise: the service's own
  database (SQLite under ``var/`` in development), which every worker process shares,
  as Redis is; an in-process fake of Redis would give each worker its own carts.

Both behave the same: every change is atomic (a Lua script in Redis, a transaction
holding the cart's row lock in the database), so concurrent changes to one cart lose
no update, and the caps below hold however many requests race. Every change moves the
cart's expiry ``CART_TTL_SECONDS`` ahead; an expired cart is gone.

A guest's cart exists once made (:meth:`CartStore.create_guest`); a user's is made by the
first line put in it, and a user with none has an empty cart. The stores know nothing
of products: which ids may be put in a cart is the services' business.
"""

from __future__ import annotations

import functools
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.signals import setting_changed

#: A cart holds at most this many lines (products)...
MAX_LINES = 50
#: ... and at most this many of one product.
MAX_QUANTITY = 1000


@dataclass(frozen=True)
class CartRef:
    """Whose cart: a guest's, named by its id, or a signed-in user's."""

    guest_id: str | None = None
    user_id: int | None = None

    @classmethod
    def guest(cls, guest_id: str) -> CartRef:
        return cls(guest_id=guest_id)

    @classmethod
    def user(cls, user_id: int) -> CartRef:
        return cls(user_id=user_id)

    @property
    def is_user(self) -> bool:
        return self.user_id is not None

    @property
    def public_id(self) -> str:
        """The cart's ``id`` as answered: the guest's token, or ``user:<id>``."""
        return f"user:{self.user_id}" if self.user_id is not None else str(self.guest_id)


@dataclass(frozen=True)
class CartState:
    """What a store holds for a cart: product id -> quantity, and when it expires.

    ``expires_at`` is None for a user who has no cart (an empty one).
    """

    ref: CartRef
    lines: Mapping[int, int] = field(default_factory=dict)
    expires_at: datetime | None = None


class CartMissing(Exception):
    """No such cart: never made, expired, or (a user's) never written."""


class CartFull(Exception):
    """The change would give the cart more than :data:`MAX_LINES` lines; nothing changed."""


class CartStore(ABC):
    """The carts, wherever they live; every method is atomic."""

    def __init__(self, *, ttl_seconds: int) -> None:
        self.ttl_seconds = ttl_seconds

    def expiry(self) -> datetime:
        """When a cart changed now expires."""
        return datetime.fromtimestamp(time.time() + self.ttl_seconds, tz=UTC)

    @abstractmethod
    def create_guest(self, guest_id: str) -> CartState:
        """Make an empty guest cart named ``guest_id``."""

    @abstractmethod
    def get(self, ref: CartRef) -> CartState | None:
        """The cart, or None when it does not exist or has expired."""

    @abstractmethod
    def set_line(self, ref: CartRef, *, product_id: int, quantity: int) -> CartState:
        """Set a line's quantity (a new line, if the cart holds fewer than MAX_LINES).

        Makes a user's cart if they have none; a guest's must exist (else CartMissing).
        Raises CartFull for a new line in a full cart.
        """

    @abstractmethod
    def remove_line(self, ref: CartRef, *, product_id: int) -> CartState:
        """Remove a line (none: nothing to remove, the expiry still moves). CartMissing."""

    @abstractmethod
    def clear(self, ref: CartRef) -> CartState:
        """Remove every line; the cart stays, empty. CartMissing."""

    @abstractmethod
    def merge(self, *, source: CartRef, target: CartRef) -> CartState:
        """Add the source cart's lines to the target's (quantities summed, at most
        MAX_QUANTITY) and delete the source; answer the target.

        CartMissing when the source does not exist; CartFull when the target would hold
        more than MAX_LINES lines (then nothing changes). Makes the target if need be.
        """

    @abstractmethod
    def purge_expired(self) -> int:
        """Delete carts past their expiry; how many were deleted."""


@functools.cache
def cart_store() -> CartStore:
    """The store the settings choose, one per process."""
    if settings.CART_REDIS_URL:
        from cart.stores.redis_store import RedisCartStore

        return RedisCartStore(
            url=settings.CART_REDIS_URL,
            key_prefix=settings.CART_REDIS_KEY_PREFIX,
            ttl_seconds=settings.CART_TTL_SECONDS,
            timeout=settings.CART_REDIS_TIMEOUT,
        )
    from cart.stores.database_store import DatabaseCartStore

    return DatabaseCartStore(ttl_seconds=settings.CART_TTL_SECONDS)


def reset() -> None:
    """Forget the store (its settings changed)."""
    cart_store.cache_clear()


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("CART_"):
        reset()


setting_changed.connect(_on_setting_changed)
