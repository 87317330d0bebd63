"""Writes of the payments app: charging an order once, and refunding it once.

Each function is called by an event's handler (payments.handlers), inside the transaction
in which souk_common.events records the event as handled, and opens its own (a savepoint
there) around the order's payment: the row is locked, or made and so locked, before the
provider is asked, so two deliveries of one order's events, even at the same moment, see
one payment and ask the provider once. The outcome, the payment and its event
(``event_publish``) commit together, or none of them does.

The provider is asked with an idempotency key derived from the order id: a charge whose
outcome was lost (a crash before the commit) is asked again under the same key, and is
the same charge.

A provider that is down (:class:`~payments.providers.ProviderUnavailable`) raises
through: nothing is stored, and the consumer tries the event again with backoff, then
keeps it as a dead letter. The card token is never logged, stored (only a masked hint)
or published. The inbox's copy of ``order.placed`` keeps it only until the event is
handled (souk_common.events redacts it in that transaction, payments.handlers names it),
or, waiting for a retry or dead, until its order is cancelled (:func:`payment_cancel`).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.db import transaction

from payments import providers
from payments.models import Payment
from payments.payloads import ORDER_PLACED_SECRETS, CancelledOrder, PlacedOrder
from souk_common.events.consume import inbox_secrets_redact
from souk_common.events.models import InboxEvent
from souk_common.events.publish import event_publish

logger = logging.getLogger(__name__)

Status = Payment.Status
#: The event type whose data carries the card token.
ORDER_PLACED = "order.placed"


def payment_charge(*, order: PlacedOrder) -> Payment:
    """Charge a placed order's total, unless its payment was tried (or cancelled) already.

    Succeeded: ``payment.succeeded`` with the transaction id. Declined: ``payment.failed``
    with the reason.
    """
    with transaction.atomic():
        payment, _ = Payment.objects.select_for_update().get_or_create(
            order_id=order.order_id,
            defaults={"user_id": order.user_id, "amount": order.total, "status": Status.PENDING},
        )
        if payment.status != Status.PENDING:
            logger.info(
                "order %s: payment %s is %s already; not charged again",
                order.order_id,
                payment.id,
                payment.status,
            )
        else:
            _charge(payment, token=order.payment_token())
    return payment


def payment_cancel(*, order: CancelledOrder) -> Payment | None:
    """The order was cancelled: a succeeded payment is refunded (``payment.refunded``),
    once; a checkout order with no payment yet gets a ``cancelled`` one, so that an
    ``order.placed`` arriving later never charges it. Any other payment stays as it is.

    A charge of the order still waiting for a retry, or dead, will never be made: the
    inbox's copies of its ``order.placed`` lose the token in this transaction.
    """
    with transaction.atomic():
        payments = Payment.objects.select_for_update()
        if order.checkout:
            payment, created = payments.get_or_create(
                order_id=order.order_id,
                defaults={
                    "user_id": order.user_id,
                    "amount": order.total or Decimal("0.00"),
                    "status": Status.CANCELLED,
                },
            )
            if created:
                logger.info(
                    "order %s: cancelled before any charge; none will be made", order.order_id
                )
        else:
            found = payments.filter(order_id=order.order_id).first()
            if found is None:
                return None  # a point-of-sale order of v1: never paid for here
            payment = found
        if payment.status == Status.SUCCEEDED:
            _refund(payment)
        # Locked (or made) the payment first: an attempt of the charge holding its inbox
        # row waits for it, and is skipped here; it finds the payment settled, is handled,
        # and loses the token then.
        inbox_secrets_redact(
            InboxEvent.objects.filter(
                type=ORDER_PLACED,
                state__in=[InboxEvent.State.RETRYING, InboxEvent.State.DEAD],
                envelope__data__order_id=str(order.order_id),
            ),
            secrets=ORDER_PLACED_SECRETS,
        )
    return payment


def token_hint(token: str) -> str:
    """The token masked: its kind (``tok_``) and its last four characters, shown only when
    at least as many more stay hidden (``tok_mastercard`` -> ``tok_…card``, ``tok_visa``
    -> ``tok_…``)."""
    kind, underscore, _ = token.partition("_")
    prefix = f"{kind}_" if underscore and len(kind) <= 8 else ""
    shown_tail = len(token) - len(prefix) >= 8
    return f"{prefix}…{token[-4:] if shown_tail else ''}"


def _charge(payment: Payment, *, token: str) -> None:
    payment.token_hint = token_hint(token)
    try:
        charge = providers.provider().charge(
            token=token, amount=payment.amount, idempotency_key=f"order-{payment.order_id}"
        )
    except providers.PaymentDeclined as declined:
        payment.status = Status.FAILED
        payment.reason = declined.reason
        payment.save()
        event_publish(type="payment.failed", data={**_facts(payment), "reason": payment.reason})
        logger.info(
            "order %s: payment %s declined (%s)", payment.order_id, payment.id, payment.reason
        )
        return
    payment.status = Status.SUCCEEDED
    payment.transaction_id = charge.transaction_id
    payment.save()
    event_publish(
        type="payment.succeeded",
        data={**_facts(payment), "transaction_id": payment.transaction_id},
    )
    logger.info("order %s: payment %s succeeded", payment.order_id, payment.id)


def _refund(payment: Payment) -> None:
    refund = providers.provider().refund(
        transaction_id=payment.transaction_id,
        amount=payment.amount,
        idempotency_key=f"refund-{payment.order_id}",
    )
    payment.status = Status.REFUNDED
    payment.refund_id = refund.refund_id
    payment.save()
    event_publish(
        type="payment.refunded",
        data={
            **_facts(payment),
            "transaction_id": payment.transaction_id,
            "refund_id": payment.refund_id,
        },
    )
    logger.info("order %s: payment %s refunded", payment.order_id, payment.id)


def _facts(payment: Payment) -> dict[str, Any]:
    """What every payment event says of the payment."""
    return {
        "payment_id": str(payment.id),
        "order_id": str(payment.order_id),
        "user_id": payment.user_id,
        "amount": f"{payment.amount:.2f}",
    }
