"""Consumers of the events other services publish: one function per event type, each
reading the event's data and calling one service (souk_common.events runs it in the
transaction that records the event as handled). The event's data is never logged: an
``order.placed`` carries the card token, which the inbox's copy of the event keeps only
until it is handled (``secrets``)."""

from payments import payloads, services
from souk_common.events.consume import Handlers
from souk_common.events.envelope import Event

handlers = Handlers()


@handlers.on("order.placed", source="orders", secrets=payloads.ORDER_PLACED_SECRETS)
def order_placed(event: Event) -> None:
    services.payment_charge(order=payloads.placed_order(event.data))


@handlers.on("order.cancelled", source="orders")
def order_cancelled(event: Event) -> None:
    services.payment_cancel(order=payloads.cancelled_order(event.data))


# The queue is bound to all of souk.orders (a fanout exchange): orders' other events
# arrive too, and are none of payments' business (acknowledged, nothing stored).
handlers.ignore(
    "order.confirmed", "order.paid", "order.payment_failed", "order.shipped", source="orders"
)
