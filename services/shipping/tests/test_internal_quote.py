"""The internal quote, for checkout: a service holding ``shipping:quote`` gives the
subtotal and item count of what it reserved and gets the cost by the same rule, with no
call to products (the test settings' products is unreachable)."""

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

INTERNAL_QUOTES = "/internal/quotes/"


def internal_quote(client, subtotal="64.00", item_count=3, country="GB", **extra):
    body = {
        "subtotal": subtotal,
        "item_count": item_count,
        "address": {"country": country, "postal_code": "OX1 1AA"},
        **extra,
    }
    return client.post(INTERNAL_QUOTES, body, format="json")


def test_checkout_gets_the_base_plus_each_item_below_free_over(orders_service):
    response = internal_quote(orders_service, subtotal="64.00", item_count=3)

    assert response.status_code == 200
    assert response.json() == {
        "country": "GB",
        "cost": "5.45",
        "carrier": "Royal Mail",
        "estimated_days": 2,
        "free_over": "100.00",
    }


def test_checkout_gets_free_shipping_from_free_over(orders_service):
    at_threshold = internal_quote(orders_service, subtotal="100.00", item_count=2, country="nl")
    just_below = internal_quote(orders_service, subtotal="99.99", item_count=2, country="nl")

    assert at_threshold.json()["cost"] == "0.00"
    assert (just_below.json()["cost"], just_below.json()["carrier"]) == ("9.45", "PostNL")


def test_a_country_not_shipped_to_is_refused_naming_the_field(orders_service):
    response = internal_quote(orders_service, country="JP")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["details"] == {
        "address": {"country": ["We do not ship to JP."]}
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subtotal": "-0.01"}, "subtotal"),
        ({"subtotal": "1.001"}, "subtotal"),
        ({"subtotal": "lots"}, "subtotal"),
        ({"subtotal": "NaN"}, "subtotal"),
        ({"item_count": 0}, "item_count"),
        ({"item_count": "three"}, "item_count"),
        ({"country": "GBR"}, "address"),
    ],
)
def test_invalid_input_is_refused_naming_the_field(orders_service, changes, field):
    response = internal_quote(orders_service, **{"subtotal": "64.00", "item_count": 3, **changes})

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]


def test_without_a_token_it_is_a_401(anonymous):
    response = internal_quote(anonymous)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_service_without_the_scope_and_a_user_are_refused_with_403(token_factory, alice):
    other_service = token_factory.service(client_id="payments", scopes=["users:read"])

    as_service = internal_quote(client_for(other_service))
    as_user = internal_quote(alice)

    assert as_service.status_code == 403
    assert as_service.json()["error"]["code"] == "permission_denied"
    assert as_user.status_code == 403
    assert as_user.json()["error"]["code"] == "permission_denied"
