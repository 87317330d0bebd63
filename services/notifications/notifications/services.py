"""Writes of the notifications app: the e-mail each event gives the customer, once.

Each ``*_send`` function is called by the event's handler, inside the transaction in
which souk_common.events records the event as handled. In one transaction of its own
(a savepoint there) it asks the users service for the account's current name and
address, records a :class:`SentEmail` and hands the mail to the mail server: all of it
or nothing. A users service or a mail server that fails raises, so nothing is recorded,
the event is tried again with backoff, and after the last attempt it is a dead letter
an operator can replay: a mail server that is down delays mail and loses none.

Once per event: the inbox never hands an event that was handled to a handler again,
and ``SentEmail.event_id`` is unique. Only a commit that fails after the server took
the mail could send it twice; the copy has the same ``Message-ID``
(``<event id@souk>``), by which mail software recognises it.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications import clients
from notifications.models import SentEmail
from notifications.payloads import (
    AccountLink,
    CancelledOrder,
    ConfirmedOrder,
    EmailChange,
    PaidOrder,
    PasswordResetRequest,
    PaymentFailedOrder,
    RegisteredUser,
    ShippedOrder,
)
from souk_common.events.envelope import REDACTED

logger = logging.getLogger(__name__)

Kind = SentEmail.Kind
Status = SentEmail.Status

#: Why a payment failed, in the customer's words, by the payment provider's reason code
#: (payments passes it on; the mock provider's are all here).
DECLINE_REASONS = {
    "card_declined": "your card was declined",
    "insufficient_funds": "the card has insufficient funds",
    "invalid_token": "the card details could not be used",
}


def welcome_send(*, event_id: uuid.UUID, user: RegisteredUser) -> SentEmail:
    """Welcome a newly registered account, with the link that verifies its address (one
    mail, not two: the link is part of being welcomed)."""
    if user.verification is None:
        return _email_send(event_id=event_id, kind=Kind.WELCOME, user_id=user.user_id)
    return _email_send(
        event_id=event_id,
        kind=Kind.WELCOME,
        user_id=user.user_id,
        context={"expires_at": user.verification.expires_at},
        link=_link(settings.EMAIL_VERIFICATION_URL, user.verification),
    )


def password_reset_send(*, event_id: uuid.UUID, request: PasswordResetRequest) -> SentEmail:
    """Mail the link that sets a new password, and until when it works."""
    return _email_send(
        event_id=event_id,
        kind=Kind.PASSWORD_RESET,
        user_id=request.user_id,
        context={"expires_at": request.reset.expires_at},
        link=_link(settings.PASSWORD_RESET_URL, request.reset),
    )


def email_verification_send(*, event_id: uuid.UUID, change: EmailChange) -> SentEmail:
    """Mail the link that verifies an account's new address, to that address."""
    return _email_send(
        event_id=event_id,
        kind=Kind.EMAIL_VERIFICATION,
        user_id=change.user_id,
        context={"expires_at": change.verification.expires_at},
        link=_link(settings.EMAIL_VERIFICATION_URL, change.verification),
    )


def _link(url_template: str, link: AccountLink) -> str:
    """The address of ``link``: the setting's template with its token."""
    return url_template.replace("{token}", quote(link.token, safe=""))


def order_confirmation_send(*, event_id: uuid.UUID, order: ConfirmedOrder) -> SentEmail:
    """Confirm an order: its id, each line with its quantity and prices, and the total."""
    return _email_send(
        event_id=event_id,
        kind=Kind.ORDER_CONFIRMED,
        user_id=order.user_id,
        order_id=order.order_id,
        context={"order": order},
    )


def order_paid_send(*, event_id: uuid.UUID, order: PaidOrder) -> SentEmail:
    """Confirm a paid checkout order: its id, each line, the subtotal, the shipping cost,
    the total and where it goes."""
    return _email_send(
        event_id=event_id,
        kind=Kind.ORDER_PAID,
        user_id=order.user_id,
        order_id=order.order_id,
        context={"order": order},
    )


def order_payment_failure_send(*, event_id: uuid.UUID, order: PaymentFailedOrder) -> SentEmail:
    """Say that an order's payment failed, why in plain words, and that nothing was charged."""
    reason = DECLINE_REASONS.get(order.reason, f"the payment provider declined it ({order.reason})")
    return _email_send(
        event_id=event_id,
        kind=Kind.ORDER_PAYMENT_FAILED,
        user_id=order.user_id,
        order_id=order.order_id,
        context={"order": order, "reason": reason},
    )


def order_shipment_send(*, event_id: uuid.UUID, order: ShippedOrder) -> SentEmail:
    """Say that an order has shipped: the carrier, the tracking number and the address."""
    return _email_send(
        event_id=event_id,
        kind=Kind.ORDER_SHIPPED,
        user_id=order.user_id,
        order_id=order.order_id,
        context={"order": order},
    )


def order_cancellation_send(*, event_id: uuid.UUID, order: CancelledOrder) -> SentEmail:
    """Say that an order was cancelled: why, when no payment arrived in time, and that
    the payment is being refunded, when it was paid."""
    return _email_send(
        event_id=event_id,
        kind=Kind.ORDER_CANCELLED,
        user_id=order.user_id,
        order_id=order.order_id,
        context={"order": order},
    )


def message_id_for(event_id: uuid.UUID) -> str:
    """The ``Message-ID`` of the mail an event gives: the same for every copy of it."""
    return f"<{event_id}@souk>"


def _email_send(
    *,
    event_id: uuid.UUID,
    kind: str,
    user_id: int,
    order_id: uuid.UUID | None = None,
    context: dict[str, Any] | None = None,
    link: str | None = None,
) -> SentEmail:
    """Mail ``kind`` about the event to the account's current address, once; an account
    with no address, or none at all, is recorded as skipped.

    ``link`` (``{{ link }}`` in the templates) carries a secret token: the mail has it,
    the record of the mail has :data:`REDACTED` in its place."""
    with transaction.atomic():
        already = SentEmail.objects.filter(event_id=event_id).first()
        if already is not None:
            return already  # this event was mailed (or skipped) already: nothing more
        recipient = clients.users().recipient(user_id)
        record = SentEmail(event_id=event_id, kind=kind, user_id=user_id, order_id=order_id)
        if recipient is None:
            return _skipped(record, Status.NO_ACCOUNT)
        context = {**(context or {}), "username": recipient.username}
        record.subject, record.body = _render(kind, {**context, "link": REDACTED if link else None})
        if not recipient.email:
            return _skipped(record, Status.NO_ADDRESS)
        record.recipient = recipient.email
        record.status = Status.SENT
        record.message_id = message_id_for(event_id)
        record.sent_at = timezone.now()
        record.save()
        _, body = _render(kind, {**context, "link": link}) if link else ("", record.body)
        # Last, raising on any failure: the record rolls back with the event's.
        EmailMessage(
            subject=record.subject,
            body=body,
            to=[record.recipient],
            headers={"Message-ID": record.message_id},
        ).send()
    logger.info("event %s: %s mail sent", event_id, kind)
    return record


def _skipped(record: SentEmail, status: str) -> SentEmail:
    record.status = status
    record.save()
    logger.info("event %s: no %s mail (%s)", record.event_id, record.kind, status)
    return record


def _render(kind: str, context: dict[str, Any]) -> tuple[str, str]:
    """The subject and plain-text body of ``kind`` (templates/notifications/<kind>*.txt)."""
    subject = render_to_string(f"notifications/{kind}_subject.txt", context)
    body = render_to_string(f"notifications/{kind}.txt", context)
    return " ".join(subject.split()), body.strip() + "\n"
