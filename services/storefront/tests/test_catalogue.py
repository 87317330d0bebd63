"""The catalogue and product pages: what the API is asked, and what a shopper sees."""

from urllib.parse import parse_qs, urlsplit

from tests.answers import calls, error, page, product

CATEGORIES = page(
    [{"id": 1, "name": "Tea", "slug": "tea"}, {"id": 2, "name": "Coffee", "slug": "coffee"}]
)


def test_the_catalogue_lists_products_with_their_price_and_stock(client, api):
    api.add("GET", "/api/products/categories/", json=CATEGORIES)
    api.add(
        "GET",
        "/api/products/",
        json=page([product(1, "Sencha green tea"), product(2, "Assam tea", "12.00", stock=0)]),
    )

    response = client.get("/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Sencha green tea" in body
    assert "€9.50" in body
    assert "Assam tea" in body
    assert "Out of stock" in body
    assert '<option value="coffee">Coffee</option>' in body


def test_pages_answer_head_as_they_answer_get(client, api):
    api.add("GET", "/api/products/categories/", json=CATEGORIES)
    api.add("GET", "/api/products/", json=page([product(1, "Sencha green tea")]))

    response = client.head("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert client.head("/signin/").status_code == 200


def test_search_category_sort_and_page_are_the_apis_parameters(client, api):
    api.add("GET", "/api/products/categories/", json=CATEGORIES)
    api.add(
        "GET",
        "/api/products/",
        json=page([product(1, "Sencha green tea")], count=30, next="/api/products/?page=3"),
    )

    response = client.get("/?q=sencha&category=tea&ordering=-price&in_stock=on&page=2")

    query = parse_qs(urlsplit(calls(api, "GET", "/api/products/")[0].url).query)
    assert query == {
        "search": ["sencha"],
        "category": ["tea"],
        "ordering": ["-price"],
        "in_stock": ["true"],
        "page": ["2"],
        "page_size": ["12"],
    }
    body = response.content.decode()
    assert "Page 2 of 3" in body
    assert "q=sencha&amp;category=tea&amp;ordering=-price&amp;in_stock=on&amp;page=3" in body


def test_an_unknown_ordering_is_left_out_not_sent(client, api):
    api.add("GET", "/api/products/categories/", json=CATEGORIES)
    api.add("GET", "/api/products/", json=page([]))

    response = client.get("/?ordering=stock;drop&page=-4")

    query = parse_qs(urlsplit(calls(api, "GET", "/api/products/")[0].url).query)
    assert "ordering" not in query
    assert "page" not in query
    assert "Nothing matches" in response.content.decode()


def test_htmx_asking_for_the_results_gets_the_results_alone(client, api):
    api.add("GET", "/api/products/", json=page([product(1, "Sencha green tea")]))

    response = client.get("/?q=sencha", headers={"HX-Request": "true", "HX-Target": "results"})

    body = response.content.decode()
    assert "Sencha green tea" in body
    assert "<html" not in body
    assert not calls(api, "GET", "/api/products/categories/")


def test_the_product_page_says_how_much_is_left(client, api):
    api.add("GET", "/api/products/3/", json=product(3, "Moroccan mint tea", "7.80", stock=4))

    body = client.get("/products/3/").content.decode()

    assert "Moroccan mint tea" in body
    assert "Only 4 left" in body
    assert "€7.80" in body
    assert 'max="4"' in body


def test_a_product_that_is_not_on_sale_is_a_404_page(client, api):
    api.add("GET", "/api/products/99/", status=404, body=error("not_found", "Not found."))

    response = client.get("/products/99/")

    assert response.status_code == 404
    assert "We cannot find that page" in response.content.decode()


def test_a_page_past_the_last_leads_to_the_first(client, api):
    api.add("GET", "/api/products/", status=404, body=error("not_found", "Invalid page."))

    response = client.get("/?q=tea&page=999")

    assert response.status_code == 302
    assert response["Location"] == "/?q=tea"


def test_the_catalogue_varies_on_htmx_so_no_cache_mixes_page_and_fragment(client, api):
    api.add("GET", "/api/products/", json=page([]))
    api.add("GET", "/api/products/categories/", json=CATEGORIES)

    response = client.get("/")

    assert "HX-Request" in response["Vary"]


def test_past_the_apis_count_the_next_link_follows_its_cursor(client, api):
    """The API counts 1,000 and numbers its pages that far; past them its next link
    carries a cursor, which the shop's own next link passes on."""
    api.add("GET", "/api/products/categories/", json=CATEGORIES)
    api.add(
        "GET",
        "/api/products/",
        json=page(
            [product(1, "Sencha green tea")],
            count=1000,
            next="/api/products/?search=tea&cursor=WyJpZCJd&page_size=12",
        ),
    )
    api.add("GET", "/api/products/", json=page([product(2, "Assam tea")], count=1000))

    last_numbered = client.get("/?q=tea&page=84").content.decode()
    after = client.get("/?q=tea&cursor=WyJpZCJd").content.decode()

    assert "1000+ products found" in last_numbered
    assert "Page 84<" in last_numbered  # not "of 84": there are more
    assert "q=tea&amp;cursor=WyJpZCJd" in last_numbered
    query = parse_qs(urlsplit(calls(api, "GET", "/api/products/")[1].url).query)
    assert (query["cursor"], "page" in query) == (["WyJpZCJd"], False)
    assert "Assam tea" in after
    assert "← First page" in after
    assert "Next →" not in after


def test_a_cursor_the_api_refuses_leads_to_the_first_page(client, api):
    api.add(
        "GET",
        "/api/products/",
        status=400,
        json={"error": {"code": "validation_error", "message": "Invalid input.",
                        "details": {"cursor": ["Invalid cursor."]}}},
    )  # fmt: skip

    response = client.get("/?q=tea&cursor=made-up")

    assert response.status_code == 302
    assert response["Location"] == "/?q=tea"
