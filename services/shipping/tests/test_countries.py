"""The countries shipped to, for the storefront: public, one page, by country code, with
each country's rule; the defaults are the data migration's (0002_default_rates)."""

import pytest

from shipping.models import ShippingRate

pytestmark = pytest.mark.django_db

COUNTRIES = "/api/shipping/countries/"

DEFAULTS = [
    # country, name, carrier, base cost, per item, free over, days
    ("BE", "Belgium", "bpost", "7.95", "0.75", "100.00", 4),
    ("CA", "Canada", "Canada Post", "14.95", "1.50", "100.00", 8),
    ("DE", "Germany", "DHL", "7.95", "0.75", "100.00", 4),
    ("ES", "Spain", "Correos", "8.95", "1.00", "100.00", 5),
    ("FR", "France", "Colissimo", "7.95", "0.75", "100.00", 4),
    ("GB", "United Kingdom", "Royal Mail", "3.95", "0.50", "100.00", 2),
    ("IE", "Ireland", "An Post", "6.95", "0.75", "100.00", 4),
    ("IT", "Italy", "Poste Italiane", "8.95", "1.00", "100.00", 5),
    ("NL", "Netherlands", "PostNL", "7.95", "0.75", "100.00", 4),
    ("US", "United States", "UPS", "14.95", "1.50", "100.00", 7),
]
FIELDS = ["country", "name", "carrier", "base_cost", "per_item_cost", "free_over", "estimated_days"]


def test_anyone_lists_the_default_countries_with_their_rules(anonymous):
    response = anonymous.get(COUNTRIES)

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (10, None, None)
    assert body["results"] == [dict(zip(FIELDS, row, strict=True)) for row in DEFAULTS]


def test_a_country_added_or_removed_is_listed_so(anonymous):
    ShippingRate.objects.create(
        country="SE", country_name="Sweden", carrier="PostNord", base_cost="9.95",
        per_item_cost="1.00", free_over=None, estimated_days=6,
    )  # fmt: skip
    ShippingRate.objects.filter(country="CA").delete()

    results = anonymous.get(COUNTRIES).json()["results"]

    assert [row["country"] for row in results] == [
        "BE", "DE", "ES", "FR", "GB", "IE", "IT", "NL", "SE", "US"
    ]  # fmt: skip
    assert results[8] == {
        "country": "SE",
        "name": "Sweden",
        "carrier": "PostNord",
        "base_cost": "9.95",
        "per_item_cost": "1.00",
        "free_over": None,
        "estimated_days": 6,
    }


def test_the_list_is_paginated(anonymous):
    first = anonymous.get(COUNTRIES, {"page_size": 4}).json()
    last = anonymous.get(COUNTRIES, {"page_size": 4, "page": 3}).json()

    assert [row["country"] for row in first["results"]] == ["BE", "CA", "DE", "ES"]
    assert first["next"] == f"{COUNTRIES}?page=2&page_size=4"
    assert [row["country"] for row in last["results"]] == ["NL", "US"]
