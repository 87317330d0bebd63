"""The payment provider behind one interface: charge a card token, refund a charge.

``settings.PAYMENTS_PROVIDER`` names the provider: a name in :data:`PROVIDERS`
(``mock``, the default) or the dotted path of a class with the :class:`Provider`
methods. Both calls take an idempotency key: the same key again is the same charge
(or refund) at the provider, never a second one, so a call retried after a crash or a
lost answer is harmless.

A provider raises :class:`PaymentDeclined` (with a reason: a final answer) or
:class:`ProviderUnavailable` (transient: try again later). Neither carries the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

#: Providers by name; any other value of PAYMENTS_PROVIDER is a dotted path.
PROVIDERS = {"mock": "payments.providers.mock.MockProvider"}


@dataclass(frozen=True)
class Charge:
    """A charge the provider made."""

    transaction_id: str


@dataclass(frozen=True)
class Refund:
    """A refund the provider made."""

    refund_id: str


class PaymentDeclined(Exception):
    """The provider refused the charge, for ``reason`` (``card_declined``...): final."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderUnavailable(Exception):
    """The provider could not be asked, or failed: the same call may succeed later."""


class Provider(Protocol):
    def charge(self, *, token: str, amount: Decimal, idempotency_key: str) -> Charge:
        """Charge ``amount`` to the card ``token`` stands for, once per key."""
        ...

    def refund(self, *, transaction_id: str, amount: Decimal, idempotency_key: str) -> Refund:
        """Refund ``amount`` of the charge ``transaction_id``, once per key."""
        ...


def provider() -> Provider:
    """The provider ``settings.PAYMENTS_PROVIDER`` names."""
    name = str(getattr(settings, "PAYMENTS_PROVIDER", "mock") or "mock")
    path = PROVIDERS.get(name, name)
    try:
        provider_class = import_string(path)
    except ImportError:
        raise ImproperlyConfigured(
            f"PAYMENTS_PROVIDER={name!r} is neither one of {sorted(PROVIDERS)} "
            "nor the dotted path of a provider class."
        ) from None
    instance: Provider = provider_class()
    return instance
