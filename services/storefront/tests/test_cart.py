"""The cart: a guest's kept by its id in the session cookie, a signed-in shopper's by token."""

from tests.answers import calls, cart, error, remember

GUEST_CART = "guest-cart-id-0123456789abcdef"


def test_a_guests_first_add_makes_a_cart_and_remembers_it(client, api):
    api.add("POST", "/api/cart/", status=201, json=cart(GUEST_CART, []))
    api.add("GET", "/api/cart/", json=cart(GUEST_CART, []))
    api.add(
        "PUT", "/api/cart/items/1/", json=cart(GUEST_CART, [(1, "Sencha green tea", "9.50", 1)])
    )

    response = client.post("/cart/add/", {"product_id": 1, "quantity": 1})

    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    put = calls(api, "PUT", "/api/cart/items/1/")[0]
    assert put.headers["X-Cart-ID"] == GUEST_CART
    assert put.json() == {"quantity": 1}
    assert client.session["cart_id"] == GUEST_CART
    page = client.get("/cart/").content.decode()
    assert "Added Sencha green tea to your cart." in page


def test_adding_again_adds_to_the_line(client, api):
    api.add("POST", "/api/cart/", status=201, json=cart(GUEST_CART, []))
    api.add("GET", "/api/cart/", json=cart(GUEST_CART, [(1, "Sencha green tea", "9.50", 2)]))
    api.add(
        "PUT", "/api/cart/items/1/", json=cart(GUEST_CART, [(1, "Sencha green tea", "9.50", 5)])
    )
    remember(client, cart_id=GUEST_CART)

    client.post("/cart/add/", {"product_id": 1, "quantity": 3})

    assert calls(api, "PUT", "/api/cart/items/1/")[0].json() == {"quantity": 5}
    assert not calls(api, "POST", "/api/cart/")


def test_an_expired_guest_cart_is_replaced_by_a_new_one(client, api):
    api.add("GET", "/api/cart/", status=404, body=error("not_found", "No such cart."))
    api.add("POST", "/api/cart/", status=201, json=cart("new-cart", []))
    api.add(
        "PUT", "/api/cart/items/1/", json=cart("new-cart", [(1, "Sencha green tea", "9.50", 1)])
    )
    remember(client, cart_id="expired-cart")

    client.post("/cart/add/", {"product_id": 1, "quantity": 1})

    assert client.session["cart_id"] == "new-cart"
    assert calls(api, "PUT", "/api/cart/items/1/")[0].headers["X-Cart-ID"] == "new-cart"


def test_the_cart_page_changes_and_removes_lines(signed_in, api, tokens):
    api.replace("GET", "/api/cart/", json=cart("user:7", [(1, "Sencha green tea", "9.50", 2)]))
    api.add("PUT", "/api/cart/items/1/", json=cart("user:7", [(1, "Sencha green tea", "9.50", 4)]))
    api.add("DELETE", "/api/cart/items/1/", json=cart("user:7", []))

    page = signed_in.get("/cart/").content.decode()
    changed = signed_in.post("/cart/items/1/", {"quantity": 4}, headers={"HX-Request": "true"})
    removed = signed_in.post("/cart/items/1/", {"quantity": 4, "remove": "1"})

    assert "Sencha green tea" in page
    assert "€19.00" in page
    put = calls(api, "PUT", "/api/cart/items/1/")[0]
    assert put.json() == {"quantity": 4}
    assert put.headers["Authorization"] == f"Bearer {tokens['access']}"
    assert "X-Cart-ID" not in put.headers
    # htmx gets the cart alone, with the header's count swapped out of band.
    assert "<html" not in changed.content.decode()
    assert 'id="cart-count" class="count" hx-swap-oob="true">4<' in changed.content.decode()
    assert removed.status_code == 302
    assert len(calls(api, "DELETE", "/api/cart/items/1/")) == 1


def test_a_product_no_longer_on_sale_is_refused_in_words(client, api):
    api.add("POST", "/api/cart/", status=201, json=cart(GUEST_CART, []))
    api.add("GET", "/api/cart/", json=cart(GUEST_CART, []))
    api.add(
        "PUT",
        "/api/cart/items/5/",
        status=400,
        body=error(
            "validation_error",
            "Product 5 does not exist or is retired.",
            {"unavailable_products": [5]},
        ),
    )

    response = client.post("/cart/add/", {"product_id": 5, "quantity": 1}, follow=True)

    assert "That product is no longer on sale." in response.content.decode()


def test_with_htmx_a_refused_add_shows_the_whole_cart_page(client, api):
    api.add("POST", "/api/cart/", status=201, json=cart(GUEST_CART, []))
    api.add(
        "PUT",
        "/api/cart/items/5/",
        status=400,
        body=error(
            "validation_error",
            "Product 5 does not exist or is retired.",
            {"unavailable_products": [5]},
        ),
    )

    response = client.post(
        "/cart/add/", {"product_id": 5, "quantity": 1}, headers={"HX-Request": "true"}
    )

    assert response["HX-Redirect"] == "/cart/"
    assert "That product is no longer on sale." in client.get("/cart/").content.decode()


def test_with_htmx_a_wrong_quantity_is_said_in_the_cart(signed_in, api):
    api.replace("GET", "/api/cart/", json=cart("user:7", [(1, "Sencha green tea", "9.50", 2)]))

    response = signed_in.post("/cart/items/1/", {"quantity": 5000}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "Choose a quantity between 0 and 1,000." in response.content.decode()
    assert not calls(api, "PUT", "/api/cart/items/1/")


def test_a_full_cart_says_why_in_the_apis_words(signed_in, api):
    api.replace("GET", "/api/cart/", json=cart("user:7", []))
    api.add(
        "PUT",
        "/api/cart/items/9/",
        status=400,
        body=error("validation_error", "A cart holds at most 50 lines."),
    )

    response = signed_in.post("/cart/add/", {"product_id": 9, "quantity": 1}, follow=True)

    assert "A cart holds at most 50 lines." in response.content.decode()
