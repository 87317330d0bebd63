"""The orders admin: orders to read, never to edit or delete, and one thing to do with them,
cancel, through the same service as the API.

An order changes only through the saga, the events and the recovery, which move its stock
and publish what happened: a form that saved a status or a total would break the stock
invariant or leave payments and shipping unaware. So every page is read-only (no Save
buttons; a POST to one is refused), nothing is deleted (an order is a record of a sale,
and its stock was moved), and "Cancel selected orders" calls ``order_cancel``, which
returns the stock and publishes ``order.cancelled`` exactly as ``POST
/api/orders/{id}/cancel/`` does. Dead letters are replayed from the events admin
(``souk_common.events.admin``).
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from orders import services
from orders.models import IdempotencyKey, Order, OrderLine
from souk_common.errors import ApplicationError


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = ["product_id", "name", "unit_price", "quantity", "line_total"]
    readonly_fields = ["product_id", "name", "unit_price", "quantity", "line_total"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


ORDER_FIELDS = (
    "id",
    "customer",
    "user_id",
    "kind",
    "status",
    "subtotal",
    "shipping_cost",
    "total",
    "shipping_address",
    "payment_status",
    "payment_transaction_id",
    "payment_reason",
    "shipment_carrier",
    "shipment_tracking_number",
    "cancel_reason",
    "placed_at",
    "created_at",
    "updated_at",
)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "kind", "status", "total", "created_at", "updated_at"]
    list_filter = ["status", "kind", "payment_status", "cancel_reason", "created_at"]
    search_fields = [
        "=id",
        "=user_id",
        "=username",
        "=payment_transaction_id",
        "=shipment_tracking_number",
    ]
    search_help_text = "An order id, a user id, a username, a transaction or tracking number."
    date_hierarchy = "created_at"
    fields = ORDER_FIELDS
    readonly_fields = ORDER_FIELDS
    inlines = [OrderLineInline]
    actions = ["cancel_selected"]

    @admin.display(description="customer", ordering="username")
    def customer(self, order: Order) -> str:
        # Orders placed before the username was kept are named by their user id.
        return order.username or f"user #{order.user_id}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are placed through the API, which reserves their stock

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # read-only pages: see the module docstring

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an order is the record of a sale whose stock moved: never deleted

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        """Cancelling is what the model's change permission grants here."""
        return bool(request.user.has_perm("orders.change_order"))

    @admin.action(description="Cancel selected orders", permissions=["cancel"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        """``order_cancel`` for each, as the API's cancel: stock returned, ``order.cancelled``
        published, a paid checkout refunded by payments; each refusal said by its order."""
        cancelled = 0
        for order in queryset.order_by("created_at"):
            if order.status == Order.Status.CANCELLED:
                continue
            try:
                services.order_cancel(order=order)
            except ApplicationError as refused:
                # Not cancellable (shipped, say), or products unreachable: then the order
                # stays cancelling and a retry or reconcile_orders finishes it.
                self.message_user(
                    request,
                    f"Order {order.id} was not cancelled: {refused.message}",
                    messages.WARNING,
                )
            else:
                cancelled += 1
        self.message_user(request, f"Cancelled {cancelled} order(s).", messages.SUCCESS)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "user_id", "state", "response_status", "created_at", "expires_at"]
    list_filter = ["state"]
    search_fields = ["=user_id", "key"]
    readonly_fields = [f.name for f in IdempotencyKey._meta.get_fields() if f.concrete]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A key deleted early would let its request, sent again, place a second order;
        # purge_idempotency_keys removes them once expired.
        return False
