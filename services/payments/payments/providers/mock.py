"""The mock provider (``PAYMENTS_PROVIDER=mock``): test tokens instead of cards.

``tok_visa`` and ``tok_mastercard`` are charged; ``tok_chargeDeclined`` is declined
(``card_declined``), ``tok_insufficientFunds`` too (``insufficient_funds``);
``tok_providerDown`` finds the provider down on every attempt; any other token is
declined as ``invalid_token``. Refunds always succeed.

It keeps nothing and is deterministic: a transaction (or refund) id is derived from the
idempotency key alone, so the same key always names the same charge, as a real
provider's idempotency keys do.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from payments.providers import Charge, PaymentDeclined, ProviderUnavailable, Refund

SUCCEEDING = frozenset({"tok_visa", "tok_mastercard"})
DECLINED = {
    "tok_chargeDeclined": "card_declined",
    "tok_insufficientFunds": "insufficient_funds",
}
DOWN = "tok_providerDown"
INVALID_TOKEN = "invalid_token"  # noqa: S105 - a decline reason, not a secret


class MockProvider:
    def charge(self, *, token: str, amount: Decimal, idempotency_key: str) -> Charge:
        if token == DOWN:
            raise ProviderUnavailable("the mock provider is down")
        if token in DECLINED:
            raise PaymentDeclined(DECLINED[token])
        if token not in SUCCEEDING:
            raise PaymentDeclined(INVALID_TOKEN)
        return Charge(transaction_id=_id("txn", idempotency_key))

    def refund(self, *, transaction_id: str, amount: Decimal, idempotency_key: str) -> Refund:
        return Refund(refund_id=_id("re", idempotency_key))


def _id(prefix: str, idempotency_key: str) -> str:
    """The same id for the same key, and another for any other key."""
    digest = hashlib.sha256(f"souk-mock-{prefix}:{idempotency_key}".encode()).hexdigest()
    return f"{prefix}_mock_{digest[:24]}"
