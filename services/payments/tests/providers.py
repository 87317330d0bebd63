"""The mock provider with its calls counted, as the provider would count them: what the
tests configure as ``PAYMENTS_PROVIDER`` (a dotted path) to see how often it was asked."""

import threading
import time
from dataclasses import dataclass

from payments.providers import ProviderUnavailable
from payments.providers.mock import MockProvider


@dataclass(frozen=True)
class Call:
    kind: str  # "charge" or "refund"
    idempotency_key: str
    amount: str


class CountingProvider(MockProvider):
    """Every call is recorded in ``calls`` (all instances share them). ``down_for`` calls
    first fail as a provider that is down; each call takes ``delay`` seconds."""

    calls: list[Call] = []
    down_for = 0
    delay = 0.0
    lock = threading.Lock()

    @classmethod
    def reset(cls):
        cls.calls = []
        cls.down_for = 0
        cls.delay = 0.0

    def charge(self, *, token, amount, idempotency_key):
        self._count("charge", idempotency_key, amount)
        return super().charge(token=token, amount=amount, idempotency_key=idempotency_key)

    def refund(self, *, transaction_id, amount, idempotency_key):
        self._count("refund", idempotency_key, amount)
        return super().refund(
            transaction_id=transaction_id, amount=amount, idempotency_key=idempotency_key
        )

    def _count(self, kind, idempotency_key, amount):
        with self.lock:
            type(self).calls.append(Call(kind, idempotency_key, str(amount)))
            down = type(self).down_for > 0
            type(self).down_for -= down
        time.sleep(self.delay)
        if down:
            raise ProviderUnavailable("the provider is down for now")

    @classmethod
    def charges(cls):
        return [call for call in cls.calls if call.kind == "charge"]

    @classmethod
    def refunds(cls):
        return [call for call in cls.calls if call.kind == "refund"]
