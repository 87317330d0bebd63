"""The storefront's forms: what a shopper may send, checked before the API is asked."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django import forms

from storefront.clients.gateway import ApiError, Country

ORDERINGS = {
    "": "Featured",
    "price": "Price: low to high",
    "-price": "Price: high to low",
    "name": "Name",
    "-created_at": "Newest",
}
# The payment provider's test cards (the card itself never reaches the shop: only a token).
TEST_CARDS = {
    "tok_visa": "Visa ending 4242 (succeeds)",
    "tok_mastercard": "Mastercard ending 4444 (succeeds)",
    "tok_chargeDeclined": "Card that is declined",
    "tok_insufficientFunds": "Card with insufficient funds",
    "tok_providerDown": "Card whose provider is down",
}


class CatalogueForm(forms.Form):
    """The catalogue's query string: what to look for, in which order, which page."""

    q = forms.CharField(required=False, max_length=100, strip=True)
    category = forms.SlugField(required=False, max_length=100)
    ordering = forms.ChoiceField(required=False, choices=list(ORDERINGS.items()))
    in_stock = forms.BooleanField(required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)
    # Past the pages the API numbers, its next links carry a cursor: passed on as it is.
    cursor = forms.CharField(required=False, max_length=8192)

    def api_params(self) -> dict[str, str]:
        """The API's names for what was asked (an invalid value is left out)."""
        data = self.cleaned_data if self.is_valid() else {}
        params = {
            "search": data.get("q") or "",
            "category": data.get("category") or "",
            "ordering": data.get("ordering") or "",
            "in_stock": "true" if data.get("in_stock") else "",
            "page": str(data.get("page") or ""),
            "cursor": data.get("cursor") or "",
        }
        return {name: value for name, value in params.items() if value}


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, max_value=1000)


class AddToCartForm(forms.Form):
    product_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=1, max_value=1000, initial=1)


def _autocomplete(value: str) -> dict[str, str]:
    """What a browser (or a password manager) may fill in the field with."""
    return {"autocomplete": value}


class SignInForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs=_autocomplete("username"))
    )
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs=_autocomplete("current-password")),
    )


class SignUpForm(forms.Form):
    username = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs=_autocomplete("username"))
    )
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs=_autocomplete("email")))
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs=_autocomplete("new-password")),
        help_text="At least 8 characters, not too common, not only digits.",
    )


class PasswordResetForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs=_autocomplete("email")))


class NewPasswordForm(forms.Form):
    token = forms.CharField(max_length=256, widget=forms.HiddenInput)
    new_password = forms.CharField(
        label="New password",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs=_autocomplete("new-password")),
    )


class CheckoutForm(forms.Form):
    """Where to ship, which card, and the form's own Idempotency-Key: sending this form
    twice (a double click, a reload) can place one order only."""

    name = forms.CharField(
        label="Full name", max_length=200, widget=forms.TextInput(attrs=_autocomplete("name"))
    )
    line1 = forms.CharField(
        label="Address",
        max_length=200,
        widget=forms.TextInput(attrs=_autocomplete("address-line1")),
    )
    line2 = forms.CharField(
        label="Address line 2",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs=_autocomplete("address-line2")),
    )
    city = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs=_autocomplete("address-level2"))
    )
    postal_code = forms.CharField(
        label="Postal code",
        max_length=20,
        widget=forms.TextInput(attrs=_autocomplete("postal-code")),
    )
    country = forms.ChoiceField(choices=[], widget=forms.Select(attrs=_autocomplete("country")))
    payment_token = forms.ChoiceField(
        label="Card", choices=list(TEST_CARDS.items()), widget=forms.RadioSelect, initial="tok_visa"
    )
    # Made here (uuid4 hex): anything else sent back is a tampered form.
    idempotency_key = forms.RegexField(regex=r"\A[0-9a-f]{32}\Z", widget=forms.HiddenInput)

    def __init__(self, *args: Any, countries: list[Country], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)
        country.choices = [("", "Choose a country")] + [(c.code, c.name) for c in countries]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def shipping_address(self) -> dict[str, str]:
        fields = ("name", "line1", "line2", "city", "postal_code", "country")
        return {name: self.cleaned_data[name] for name in fields}


def add_api_errors(form: forms.Form, error: ApiError, *, nested: str | None = None) -> None:
    """The API's field errors (``details``) on the form's fields, the rest on the form."""
    details: Mapping[str, Any] = error.details
    if nested and isinstance(details.get(nested), dict):
        details = {**details, **details[nested]}
    placed = False
    for field, messages in details.items():
        if field in form.fields and isinstance(messages, list):
            # A hidden field's error (a link's token) is the form's: it has no place to show.
            shown_on = None if form.fields[field].widget.is_hidden else field
            for message in messages:
                form.add_error(shown_on, str(message))
            placed = True
    if not placed:
        form.add_error(None, error.message)
