"""Consumers of payments' and shipping's events: one function per event type, each
reading the event's data and calling one service (souk_common.events runs it in the
transaction that records the event as handled, so a duplicate has no second effect)."""

from orders import payloads, services
from souk_common.events.consume import Handlers
from souk_common.events.envelope import Event

handlers = Handlers()


@handlers.on("payment.succeeded", source="payments")
def payment_succeeded(event: Event) -> None:
    payment = payloads.payment_succeeded(event.data)
    services.order_pay(
        order_id=payment.order_id, transaction_id=payment.transaction_id, amount=payment.amount
    )


@handlers.on("payment.failed", source="payments")
def payment_failed(event: Event) -> None:
    payment = payloads.payment_failed(event.data)
    services.order_payment_fail(order_id=payment.order_id, reason=payment.reason)


@handlers.on("payment.refunded", source="payments")
def payment_refunded(event: Event) -> None:
    refund = payloads.payment_refunded(event.data)
    services.order_payment_refund(order_id=refund.order_id, transaction_id=refund.transaction_id)


@handlers.on("shipment.created", source="shipping")
def shipment_created(event: Event) -> None:
    shipment = payloads.shipment_created(event.data)
    services.order_ship(
        order_id=shipment.order_id,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
    )
