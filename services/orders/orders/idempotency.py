"""The ``Idempotency-Key`` of placing an order or checking out: one order per key, and the
first answer again.

A key is the client's (per user, kept 24 hours). With the same body again it gets the
first answer again (status, body and ``Location``; ``Retry-After`` on a 503), with one order
and stock taken once; with another body, 422 ``idempotency_key_reused``; while the first
request runs (or its order is still being settled), 409 ``conflict``.

Orders and checkouts share one namespace of keys per user: a key is remembered with the
request it was used for (its fingerprint), so the same key sent to the other endpoint is
another body, 422, never the other request's answer.

An order's fingerprint is its lines (merged, by product), known once it is recorded; a
checkout's is its request (:func:`checkout_fingerprint`), and is looked up before the
checkout does anything (:meth:`KeyClaim.look`): the checkout empties the cart it reads,
so a retry must find its answer before it looks at the cart again.

Placing the order is the service's job (``services.order_place``, ``order_checkout``); this
module keeps the answer. :func:`answer_once` gives the service a :class:`KeyClaim`, which it
runs in the very transaction that records the pending order: a crash leaves neither an
order without its key nor a key without its order. The answer is kept once the order is
settled; one the saga leaves unsettled is settled by ``services.orders_reconcile``, which
gives its key the answer too (:func:`settle`).

Nothing here is DRF: the answers are :func:`souk_common.errors.answer_for`'s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from django.db import IntegrityError
from django.utils import timezone

from orders.models import IdempotencyKey, Order, OrderLine
from souk_common.errors import ApplicationError, Conflict, ErrorCode, answer_for

IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)


class IdempotencyKeyReused(ApplicationError):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    default_message = "This Idempotency-Key was used with a different request."


class RequestInProgress(Conflict):
    default_message = "A request with this Idempotency-Key is still being processed."


@dataclass(frozen=True)
class Answer:
    """What the client is told: kept under its Idempotency-Key to be told again."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_error(cls, error: ApplicationError) -> Answer:
        status, body, headers = answer_for(error)
        return cls(status, body, headers)


class _Answered(Exception):
    """The key already has its answer: placing stops here, and the answer is told again."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


class KeyClaim:
    """One request's claim on its key, made in the transaction that records its order.

    ``order_place`` calls it with the order and its lines before writing them. It locks
    the key's row if there is one: a key still running is :class:`RequestInProgress`, one
    used with other lines :class:`IdempotencyKeyReused`, one answered stops the placing
    (:func:`answer_once` tells that answer again). Else it writes the key, in progress,
    with the order's id; the order follows in the same transaction (the foreign key is
    checked at commit, as Django declares them deferred).
    """

    def __init__(self, *, user_id: int, key: str, fingerprint: str | None = None) -> None:
        self.user_id = user_id
        self.key = key
        self.fingerprint = fingerprint  # the request's; None: the order's lines (an order)
        self.order: Order | None = None  # once claimed: the order the key is for

    def look(self) -> None:
        """Before the request does anything: raise as :meth:`__call__` would for a key that
        is in use already (its answer, 409, 422); a free key is claimed later, with the
        order. Only for a request whose fingerprint is known up front."""
        assert self.fingerprint is not None
        existing = IdempotencyKey.objects.filter(
            user_id=self.user_id, key=self.key, expires_at__gt=timezone.now()
        ).first()
        if existing is not None:
            _refuse_or_answer(existing, self.fingerprint)

    def __call__(self, order: Order, lines: Iterable[OrderLine]) -> None:
        fingerprint = self.fingerprint or _fingerprint(lines)
        now = timezone.now()
        existing = (
            IdempotencyKey.objects.select_for_update()
            .filter(user_id=self.user_id, key=self.key)
            .first()
        )
        if existing is not None and existing.expires_at <= now:
            existing.delete()
            existing = None
        if existing is not None:
            _refuse_or_answer(existing, fingerprint)
        try:
            # On its own, so that only the key's unique index can make this a 409.
            IdempotencyKey.objects.create(
                user_id=self.user_id,
                key=self.key,
                request_fingerprint=fingerprint,
                state=IdempotencyKey.State.IN_PROGRESS,
                order_id=order.pk,
                expires_at=now + IDEMPOTENCY_KEY_LIFETIME,
            )
        except IntegrityError:
            # The same key arrived twice at once: the other request is running.
            raise RequestInProgress() from None
        self.order = order


def answer_once(
    *,
    user_id: int,
    key: str,
    place: Callable[[KeyClaim], Answer],
    fingerprint: str | None = None,
) -> Answer:
    """The answer to placing an order under ``key``: the one it already got, or
    ``place(claim)``'s, kept under the key once its order is settled.

    ``place`` places the order with ``claim`` and says what to answer when it is placed;
    an error it raises after the order is recorded is that order's answer. An error
    before (the account, the cart, the key itself) is raised, and nothing is kept.
    ``fingerprint``: the request's, when it is known before placing (a checkout, see
    :func:`checkout_fingerprint`); the key is then looked up before ``place`` runs.
    """
    claim = KeyClaim(user_id=user_id, key=key, fingerprint=fingerprint)
    try:
        if fingerprint is not None:
            claim.look()
        answer = place(claim)
    except _Answered as answered:
        return answered.answer
    except ApplicationError as error:
        if claim.order is None:
            raise
        answer = Answer.of_error(error)
    if claim.order is not None and claim.order.status not in Order.UNSETTLED:
        _keep(claim.order, answer)  # else recovery settles the order, then keeps its answer
    return answer


def settle(order: Order, error: ApplicationError) -> None:
    """The order's key, if it has one still in progress, answers ``error`` from now on
    (recovery, when it settles an order its saga left unsettled)."""
    _keep(order, Answer.of_error(error))


def idempotency_keys_purge() -> int:
    """Delete keys past their 24 hours whose order is settled."""
    expired = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).exclude(
        order__status__in=Order.UNSETTLED
    )
    deleted, _ = expired.delete()
    return deleted


def _keep(order: Order, answer: Answer) -> None:
    """Keep the final answer under the order's Idempotency-Key, if it has one."""
    headers = {name: value for name, value in answer.headers.items() if name != "Retry-After"}
    IdempotencyKey.objects.filter(order=order, state=IdempotencyKey.State.IN_PROGRESS).update(
        state=IdempotencyKey.State.DONE,
        response_status=answer.status,
        response_body=answer.body,
        response_headers=headers or None,
    )


def _refuse_or_answer(existing: IdempotencyKey, fingerprint: str) -> None:
    """A key in use: 422 for another request, 409 while it runs, else its answer again."""
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if existing.state == IdempotencyKey.State.IN_PROGRESS:
        raise RequestInProgress()
    raise _Answered(_replayed(existing))


def _replayed(kept: IdempotencyKey) -> Answer:
    status = kept.response_status or HTTPStatus.OK
    headers = dict(kept.response_headers or {})
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        headers["Retry-After"] = "1"
    return Answer(status, kept.response_body or {}, headers)


def _fingerprint(lines: Iterable[OrderLine]) -> str:
    """The request's lines (merged, by product), as the key remembers them."""
    canonical = json.dumps([[line.product_id, line.quantity] for line in lines])
    return hashlib.sha256(canonical.encode()).hexdigest()


def checkout_fingerprint(request: dict[str, Any]) -> str:
    """A checkout request (its validated body), as its key remembers it: never an order's
    (those are a list of lines; this is an object naming the operation)."""
    canonical = json.dumps({"operation": "checkout", **request}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
