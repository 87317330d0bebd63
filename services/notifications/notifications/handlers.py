"""Consumers of the events other services publish: one function per event type, each
reading the event's data and calling one service (souk_common.events runs it in the
transaction that records the event as handled)."""

from notifications import payloads, services
from souk_common.events.consume import Handlers
from souk_common.events.envelope import Event

handlers = Handlers()


# The tokens of the links users asks to mail are secrets of their events: mailed, and
# kept in no inbox row once the mail is sent.
@handlers.on("user.registered", source="users", secrets=("verification_token",))
def user_registered(event: Event) -> None:
    services.welcome_send(event_id=event.id, user=payloads.registered_user(event.data))


@handlers.on("user.password_reset_requested", source="users", secrets=("reset_token",))
def user_password_reset_requested(event: Event) -> None:
    services.password_reset_send(
        event_id=event.id, request=payloads.password_reset_request(event.data)
    )


@handlers.on("user.email_changed", source="users", secrets=("verification_token",))
def user_email_changed(event: Event) -> None:
    services.email_verification_send(event_id=event.id, change=payloads.email_change(event.data))


@handlers.on("order.confirmed", source="orders")
def order_confirmed(event: Event) -> None:
    services.order_confirmation_send(event_id=event.id, order=payloads.confirmed_order(event.data))


@handlers.on("order.paid", source="orders")
def order_paid(event: Event) -> None:
    services.order_paid_send(event_id=event.id, order=payloads.paid_order(event.data))


@handlers.on("order.payment_failed", source="orders")
def order_payment_failed(event: Event) -> None:
    services.order_payment_failure_send(
        event_id=event.id, order=payloads.payment_failed_order(event.data)
    )


@handlers.on("order.shipped", source="orders")
def order_shipped(event: Event) -> None:
    services.order_shipment_send(event_id=event.id, order=payloads.shipped_order(event.data))


@handlers.on("order.cancelled", source="orders")
def order_cancelled(event: Event) -> None:
    services.order_cancellation_send(event_id=event.id, order=payloads.cancelled_order(event.data))


# The queue is bound to all of souk.orders (a fanout exchange): order.placed arrives too,
# mails nobody (order.paid or order.payment_failed follows), and carries a card token
# that must not be kept: acknowledged, nothing stored.
handlers.ignore("order.placed", source="orders")
