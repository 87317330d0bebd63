"""Consumers of the events other services publish: one function per event type, each
reading the event's data and calling one service (souk_common.events runs it in the
transaction that records the event as handled). The event's data is never logged: an
``order.placed`` carries the card token."""

from payments import payloads, services
from souk_common.events.consume import Handlers
from souk_common.events.envelope import Event

handlers = Handlers()


@handlers.on("order.placed", source="orders")
def order_placed(event: Event) -> None:
    services.payment_charge(order=payloads.placed_order(event.data), event_id=event.id)


@handlers.on("order.cancelled", source="orders")
def order_cancelled(event: Event) -> None:
    services.payment_cancel(order=payloads.cancelled_order(event.data))


#: Orders' other events. The queue is bound to all of souk.orders (a fanout exchange), so
#: they arrive too; taken as handled with no effect rather than kept as dead letters.
ORDER_EVENTS_IGNORED = ("order.confirmed", "order.paid", "order.payment_failed", "order.shipped")


def order_event_ignored(event: Event) -> None:
    """None of payments' business."""


for type_ in ORDER_EVENTS_IGNORED:
    handlers.on(type_, source="orders")(order_event_ignored)
