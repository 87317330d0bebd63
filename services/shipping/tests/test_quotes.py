"""The public quote: anyone asks what shipping some lines to a country costs; the lines
are priced by products' public catalogue (faked at its HTTP boundary), and the rule is
base + per item, or free from the country's subtotal."""

import pytest

from shipping.models import ShippingRate
from souk_common.testing import Hung

pytestmark = pytest.mark.django_db

QUOTES = "/api/shipping/quotes/"


def quote(client, *lines, country="GB", postal_code="OX1 1AA"):
    body = {
        "items": [{"product_id": pid, "quantity": qty} for pid, qty in lines],
        "address": {"country": country, "postal_code": postal_code},
    }
    return client.post(QUOTES, body, format="json")


def test_below_free_over_an_order_costs_the_base_plus_each_item(anonymous, catalogue):
    response = quote(anonymous, (1, 2), (2, 1))  # 19.00 + 45.00 = 64.00, 3 items

    assert response.status_code == 200
    assert response.json() == {
        "country": "GB",
        "cost": "5.45",  # 3.95 + 3 x 0.50
        "carrier": "Royal Mail",
        "estimated_days": 2,
        "free_over": "100.00",
    }
    assert catalogue.asked == [{"ids": ["1,2"], "page_size": ["100"]}]


def test_each_country_has_its_own_rate_and_a_code_in_any_case_is_one_country(anonymous, catalogue):
    france = quote(anonymous, (1, 1), country="fr")
    states = quote(anonymous, (1, 4), country="Us")

    assert france.json() == {
        "country": "FR",
        "cost": "8.70",  # 7.95 + 1 x 0.75
        "carrier": "Colissimo",
        "estimated_days": 4,
        "free_over": "100.00",
    }
    assert (states.json()["cost"], states.json()["carrier"]) == ("20.95", "UPS")  # 14.95 + 4 x 1.50


def test_from_free_over_an_order_ships_free_and_just_below_it_does_not(anonymous, catalogue):
    at_threshold = quote(anonymous, (4, 2))  # 2 x 50.00 = 100.00
    above = quote(anonymous, (2, 3))  # 135.00
    just_below = quote(anonymous, (5, 1))  # 99.99

    assert at_threshold.status_code == 200
    assert at_threshold.json()["cost"] == "0.00"
    assert above.json()["cost"] == "0.00"
    assert just_below.json()["cost"] == "4.45"


def test_lines_of_one_product_are_counted_together(anonymous, catalogue):
    split = quote(anonymous, (1, 2), (1, 3))
    merged = quote(anonymous, (1, 5))

    assert split.json() == merged.json()
    assert split.json()["cost"] == "6.45"  # 3.95 + 5 x 0.50
    assert catalogue.asked[0] == {"ids": ["1"], "page_size": ["100"]}


def test_a_rate_with_no_free_over_never_ships_free(anonymous, catalogue):
    ShippingRate.objects.filter(country="GB").update(free_over=None)

    response = quote(anonymous, (2, 3))

    assert response.json()["cost"] == "5.45"
    assert response.json()["free_over"] is None


def test_the_same_order_is_quoted_the_same_every_time(anonymous, catalogue):
    answers = {str(quote(anonymous, (1, 3), (2, 1), country="DE").json()) for _ in range(3)}

    assert len(answers) == 1


def test_a_country_not_shipped_to_is_refused_naming_the_field_and_products_is_not_asked(
    anonymous, catalogue
):
    response = quote(anonymous, (1, 1), country="ZZ")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == {"address": {"country": ["We do not ship to ZZ."]}}
    assert catalogue.asked == []


def test_unknown_and_retired_products_are_refused_naming_them(anonymous, catalogue):
    response = quote(anonymous, (1, 1), (3, 1), (404, 2))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == {
        "items": [
            "Product 3 does not exist or is retired.",
            "Product 404 does not exist or is retired.",
        ],
        "unavailable_products": [3, 404],
    }


def line(product_id=1, quantity=1):
    return {"product_id": product_id, "quantity": quantity}


GB = {"country": "GB", "postal_code": "OX1 1AA"}


@pytest.mark.parametrize(
    ("body", "field", "nested"),
    [
        ({"address": GB}, "items", None),
        ({"items": [], "address": GB}, "items", None),
        ({"items": [line(pid) for pid in range(1, 52)], "address": GB}, "items", None),
        ({"items": [line(quantity=0)], "address": GB}, "items", "quantity"),
        ({"items": [line(quantity=1001)], "address": GB}, "items", "quantity"),
        ({"items": [line(quantity=600), line(quantity=401)], "address": GB}, "items", None),
        ({"items": [line(product_id=0)], "address": GB}, "items", "product_id"),
        ({"items": [line(product_id="tea")], "address": GB}, "items", "product_id"),
        ({"items": [{"quantity": 1}], "address": GB}, "items", "product_id"),
        ({"items": "1,2", "address": GB}, "items", None),
        ({"items": [line()]}, "address", None),
        ({"items": [line()], "address": {"postal_code": "X"}}, "address", "country"),
        ({"items": [line()], "address": {"country": "GBR"}}, "address", "country"),
        ({"items": [line()], "address": {"country": "G1"}}, "address", "country"),
        ({"items": [line()], "address": {"country": "ÉS"}}, "address", "country"),
        ({"items": [line()], "address": {"country": ""}}, "address", "country"),
        ({"items": [line()], "address": {"country": "GB", "postal_code": "X" * 21}}, "address",
         "postal_code"),
    ],
)  # fmt: skip
def test_invalid_input_is_refused_naming_the_field_and_products_is_not_asked(
    anonymous, catalogue, body, field, nested
):
    response = anonymous.post(QUOTES, body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == [field]
    if nested == "country" or nested == "postal_code":
        assert list(error["details"][field]) == [nested]
    elif nested is not None:  # a line's field, under the line's index
        [problems] = error["details"][field].values()
        assert list(problems) == [nested]
    assert catalogue.asked == []


def test_the_postal_code_may_be_left_out(anonymous, catalogue):
    body = {"items": [line(1, 2)], "address": {"country": "IE"}}

    response = anonymous.post(QUOTES, body, format="json")

    assert response.status_code == 200
    assert response.json()["cost"] == "8.45"  # 6.95 + 2 x 0.75


def test_fifty_lines_of_a_thousand_are_quoted(anonymous, products_server, catalogue):
    for pid in range(10, 60):
        catalogue.add(pid, f"Tea {pid}", "0.01")

    response = quote(anonymous, *[(pid, 1000) for pid in range(10, 60)])  # 500.00

    assert response.status_code == 200
    assert response.json()["cost"] == "0.00"


def test_products_unreachable_is_a_503_with_retry_after(anonymous):
    response = quote(anonymous, (1, 1))  # the test settings' products: nothing listens

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "upstream_unavailable"
    assert int(response["Retry-After"]) >= 1


def test_products_failing_is_a_503(anonymous, products_server):
    products_server.add("GET", "/api/products/", status=500, json={"error": {}})

    response = quote(anonymous, (1, 1))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "upstream_unavailable"


def test_products_too_slow_is_a_504(anonymous, products_server):
    def hang(request):
        raise Hung(1.0)

    products_server.add_callback("GET", "/api/products/", hang)

    response = quote(anonymous, (1, 1))

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"


@pytest.mark.parametrize(
    "answer",
    [
        {"count": 1, "next": None, "previous": None, "results": [{"id": 1, "name": "Sencha"}]},
        {"count": 1, "next": None, "previous": None,
         "results": [{"id": 1, "name": "Sencha", "price": 9.5}]},
        {"count": 1, "next": None, "previous": None,
         "results": [{"id": 1, "name": "Sencha", "price": "-1.00"}]},
        {"count": 1, "next": None, "previous": None,
         "results": [{"id": 2, "name": "Teapot", "price": "45.00"}]},
        {"count": 200, "next": "/api/products/?page=2", "previous": None, "results": []},
        ["not", "a", "page"],
    ],
)  # fmt: skip
def test_a_catalogue_answer_that_makes_no_sense_is_a_502(anonymous, products_server, answer):
    products_server.add("GET", "/api/products/", json=answer)

    response = quote(anonymous, (1, 1))

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"
