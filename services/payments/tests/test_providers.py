"""The provider behind PAYMENTS_PROVIDER: the mock's test tokens, its idempotency keys,
how a provider is chosen, and the masked hint a token leaves."""

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from payments.providers import PaymentDeclined, ProviderUnavailable, provider
from payments.providers.mock import MockProvider
from payments.services import token_hint
from tests.providers import CountingProvider

AMOUNT = Decimal("62.90")


@pytest.mark.parametrize("token", ["tok_visa", "tok_mastercard"])
def test_the_succeeding_tokens_are_charged(token):
    charge = MockProvider().charge(token=token, amount=AMOUNT, idempotency_key="order-1")

    assert charge.transaction_id.startswith("txn_")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_insufficientFunds", "insufficient_funds"),
        ("tok_unknown", "invalid_token"),
        ("", "invalid_token"),
        ("TOK_VISA", "invalid_token"),
    ],
)
def test_the_declining_tokens_are_declined_with_their_reason(token, reason):
    with pytest.raises(PaymentDeclined) as declined:
        MockProvider().charge(token=token, amount=AMOUNT, idempotency_key="order-1")

    assert declined.value.reason == reason


def test_the_provider_is_down_for_tok_provider_down_on_every_attempt():
    for _ in range(3):
        with pytest.raises(ProviderUnavailable) as down:
            MockProvider().charge(token="tok_providerDown", amount=AMOUNT, idempotency_key="k")
        assert "tok_providerDown" not in str(down.value)  # the token is in no error message


def test_the_same_idempotency_key_is_the_same_charge_and_another_key_another():
    mock = MockProvider()

    first = mock.charge(token="tok_visa", amount=AMOUNT, idempotency_key="order-a")
    again = MockProvider().charge(token="tok_mastercard", amount=AMOUNT, idempotency_key="order-a")
    other = mock.charge(token="tok_visa", amount=AMOUNT, idempotency_key="order-b")

    assert first == again
    assert other != first


def test_refunds_are_deterministic_by_key_too():
    mock = MockProvider()

    first = mock.refund(transaction_id="txn_1", amount=AMOUNT, idempotency_key="refund-a")
    again = mock.refund(transaction_id="txn_1", amount=AMOUNT, idempotency_key="refund-a")
    other = mock.refund(transaction_id="txn_2", amount=AMOUNT, idempotency_key="refund-b")

    assert first == again
    assert first.refund_id.startswith("re_")
    assert other != first


def test_the_mock_is_the_default_provider(settings):
    del settings.PAYMENTS_PROVIDER

    assert type(provider()) is MockProvider


def test_a_provider_is_named_or_given_by_its_dotted_path(settings):
    settings.PAYMENTS_PROVIDER = "mock"
    named = provider()
    settings.PAYMENTS_PROVIDER = "tests.providers.CountingProvider"
    dotted = provider()

    assert type(named) is MockProvider
    assert type(dotted) is CountingProvider


def test_an_unknown_provider_is_refused_by_the_system_checks(settings):
    settings.PAYMENTS_PROVIDER = "stripe-ish"

    with pytest.raises(ImproperlyConfigured, match="PAYMENTS_PROVIDER='stripe-ish'"):
        provider()
    with pytest.raises(SystemCheckError, match=r"payments\.E001"):
        call_command("check")


@pytest.mark.parametrize(
    ("token", "hint"),
    [
        ("tok_visa", "tok_…"),
        ("tok_mastercard", "tok_…card"),
        ("tok_chargeDeclined", "tok_…ined"),
        ("tok_1N3T00LkdIwHu7ixt44h1F8k", "tok_…1F8k"),
        ("abcdefg", "…"),
        ("abcdefgh", "…efgh"),
        ("a_token_of_its_own", "a_…_own"),
        ("averylongkind_abcdefgh", "…efgh"),
        ("", "…"),
    ],
)
def test_a_token_leaves_a_hint_that_never_shows_it_whole(token, hint):
    assert token_hint(token) == hint
    assert not token or token not in token_hint(token)
