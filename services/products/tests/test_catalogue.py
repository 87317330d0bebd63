"""The public catalogue's reads: list, filters, search, ordering, pagination, detail, categories."""

import pytest

pytestmark = pytest.mark.django_db


def names(response):
    return [product["name"] for product in response.json()["results"]]


def test_list_shape_and_money_as_decimal_strings(api, make_product):
    product = make_product("Sencha", price="9.50", stock=4)

    response = api.get("/api/products/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["results"] == [
        {
            "id": product.pk,
            "sku": product.sku,
            "name": "Sencha",
            "description": "",
            "price": "9.50",
            "stock": 4,
            "category": "tea",
            "is_active": True,
            "created_at": body["results"][0]["created_at"],
            "updated_at": body["results"][0]["updated_at"],
        }
    ]


def test_retired_products_are_hidden_from_the_public_but_not_from_staff(
    api, staff_api, make_product
):
    make_product("Active")
    retired = make_product("Retired", is_active=False)

    assert names(api.get("/api/products/")) == ["Active"]
    assert api.get(f"/api/products/{retired.pk}/").status_code == 404
    assert names(staff_api.get("/api/products/")) == ["Active", "Retired"]
    assert staff_api.get(f"/api/products/{retired.pk}/").status_code == 200


def test_search_covers_name_description_and_sku(api, make_product):
    make_product("Sencha")
    make_product("Plain", description="a smoky lapsang")
    make_product("Coded", sku="ZEN-42")
    make_product("Unrelated")

    assert names(api.get("/api/products/", {"search": "sencha"})) == ["Sencha"]
    assert names(api.get("/api/products/", {"search": "LAPSANG"})) == ["Plain"]
    assert names(api.get("/api/products/", {"search": "zen-42"})) == ["Coded"]


def test_filters(api, make_product, coffee):
    make_product("Cheap tea", price="2.00", stock=0)
    make_product("Dear tea", price="20.00")
    beans = make_product("Beans", price="11.00", category=coffee)

    assert names(api.get("/api/products/", {"category": "coffee"})) == ["Beans"]
    assert names(api.get("/api/products/", {"min_price": "10"})) == ["Dear tea", "Beans"]
    assert names(api.get("/api/products/", {"max_price": "11.00"})) == ["Cheap tea", "Beans"]
    assert names(api.get("/api/products/", {"in_stock": "true"})) == ["Dear tea", "Beans"]
    assert names(api.get("/api/products/", {"ids": f"{beans.pk},999999"})) == ["Beans"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["B", "C", "A"]),
        ("-price", ["A", "C", "B"]),
        ("name", ["A", "B", "C"]),
        ("-created_at", ["C", "B", "A"]),
    ],
)
def test_ordering(api, make_product, ordering, expected):
    make_product("A", price="3.00")
    make_product("B", price="1.00")
    make_product("C", price="2.00")

    assert names(api.get("/api/products/", {"ordering": ordering})) == expected


@pytest.mark.parametrize(
    "query",
    [
        {"min_price": "cheap"},
        {"ids": "1,x"},
        {"ids": "²"},  # a digit to str.isdigit(), not to int()
        {"ids": "1,①"},
        {"ids": "1" * 5_000},  # more digits than int() reads
        {"ids": ",".join(["1"] * 101)},
        {"in_stock": "perhaps"},
        {"category": "t\x00ea"},  # NUL never reaches PostgreSQL, which cannot compare it
        {"search": "Sen\x00cha"},
    ],
)
def test_invalid_filter_values_are_validation_errors(api, query):
    response = api.get("/api/products/", query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_page_size_is_capped_at_100(api, make_product):
    for _ in range(105):
        make_product()

    body = api.get("/api/products/", {"page_size": 500}).json()

    assert body["count"] == 105
    assert len(body["results"]) == 100
    assert body["next"]


@pytest.mark.parametrize("page_size", [5, 100])
def test_list_costs_the_same_queries_whatever_the_page_size(
    api, make_product, coffee, django_assert_num_queries, page_size
):
    for index in range(60):
        make_product(category=coffee if index % 2 else None)

    # One page with its categories, and the count unless the page holds the whole list.
    with django_assert_num_queries(2 if page_size < 60 else 1):
        response = api.get("/api/products/", {"page_size": page_size})

    assert len(response.json()["results"]) == min(page_size, 60)


def test_categories_are_public(api, tea, coffee):
    response = api.get("/api/products/categories/")

    assert response.status_code == 200
    assert [c["slug"] for c in response.json()["results"]] == ["coffee", "tea"]


def test_unknown_product_is_a_404_envelope(api):
    response = api.get("/api/products/424242/")

    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["message"], error["details"]) == ("not_found", "Not found.", {})
