"""Data of the cart app's embedded store (cart.stores.database_store): the carts and their
lines when no ``REDIS_URL`` is set. With Redis these tables stay empty."""

from django.db import models
from django.db.models import Q


class Cart(models.Model):
    """A guest's cart (named by its unguessable id) or a user's (one per user)."""

    guest_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    user_id = models.BigIntegerField(unique=True, null=True, blank=True)
    # Sliding: each change moves it CART_TTL_SECONDS ahead; past it the cart is gone.
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(guest_id__isnull=False, user_id__isnull=True)
                | Q(guest_id__isnull=True, user_id__isnull=False),
                name="cart_guest_or_user",
            )
        ]

    def __str__(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else f"guest {self.guest_id}"


class CartLine(models.Model):
    """How many of one product a cart holds; its name and price are the products service's."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product_id = models.BigIntegerField()
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cart", "product_id"], name="cart_line_per_product")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id}"
