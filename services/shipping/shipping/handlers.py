"""Consumers of the events other services publish, for the shipping app: one function per
event type, each reading the event's data and calling one service (souk_common.events
runs it in the transaction that records the event as handled)."""

from shipping import payloads, services
from souk_common.events.consume import Handlers
from souk_common.events.envelope import Event

handlers = Handlers()


@handlers.on("order.paid", source="orders")
def order_paid(event: Event) -> None:
    order = payloads.paid_order(event.data)
    services.shipment_create(order_id=order.order_id, user_id=order.user_id, country=order.country)


@handlers.on("order.cancelled", source="orders")
def order_cancelled(event: Event) -> None:
    order = payloads.cancelled_order(event.data)
    services.shipment_cancel(
        order_id=order.order_id, user_id=order.user_id, was_paid=order.was_paid
    )


# The queue is bound to all of souk.orders (a fanout exchange): orders' other events
# arrive too, and are none of shipping's business (acknowledged, nothing stored; an
# order.placed carries a card token that must not be kept).
handlers.ignore(
    "order.confirmed", "order.placed", "order.payment_failed", "order.shipped", source="orders"
)
