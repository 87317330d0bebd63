"""Signing up, in and out: tokens kept in the session alone, the guest cart merged."""

from tests.answers import PASSWORD, calls, cart, error, page, remember


def a_guest_with_a_cart(client, api, cart_id="guest-cart-1"):
    api.add("POST", "/api/cart/", status=201, json=cart(cart_id, []))
    api.add("PUT", "/api/cart/items/1/", json=cart(cart_id, [(1, "Sencha green tea", "9.50", 2)]))
    client.post("/cart/add/", {"product_id": 1, "quantity": 2})
    assert client.session["cart_id"] == cart_id


def test_signing_in_merges_the_guest_cart_into_the_accounts(client, api, tokens):
    a_guest_with_a_cart(client, api)
    api.add("POST", "/api/auth/token/", json=tokens)
    api.add("POST", "/api/cart/merge/", json=cart("user:7", [(1, "Sencha green tea", "9.50", 3)]))

    response = client.post("/signin/", {"username": "ada", "password": PASSWORD}, follow=True)

    assert calls(api, "POST", "/api/auth/token/")[0].json() == {
        "username": "ada",
        "password": PASSWORD,
    }
    merge = calls(api, "POST", "/api/cart/merge/")[0]
    assert merge.json() == {"cart_id": "guest-cart-1"}
    assert merge.headers["Authorization"] == f"Bearer {tokens['access']}"
    body = response.content.decode()
    assert "Welcome back, ada." in body
    assert "Your cart is with your account now: 3 items." in body
    assert 'class="count">3<' in body
    assert "cart_id" not in client.session


def test_a_wrong_password_says_so_and_signs_nobody_in(client, api):
    api.add("POST", "/api/auth/token/", status=401, body=error("not_authenticated", "No."))

    response = client.post("/signin/", {"username": "ada", "password": "wrong"})

    assert response.status_code == 200
    assert "do not match an active account" in response.content.decode()
    assert "account" not in client.session


def test_signing_up_opens_the_account_then_signs_in(client, api, tokens):
    api.add("POST", "/api/users/", status=201, json={"id": 7, "username": "ada"})
    api.add("POST", "/api/auth/token/", json=tokens)
    api.add("GET", "/api/cart/", json=cart("user:7", []))

    response = client.post(
        "/signup/?next=/checkout/",
        {"username": "ada", "email": "ada@example.com", "password": PASSWORD, "next": "/checkout/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/checkout/"
    assert calls(api, "POST", "/api/users/")[0].json() == {
        "username": "ada",
        "email": "ada@example.com",
        "password": PASSWORD,
    }
    assert client.session["account"]["username"] == "ada"


def test_the_apis_refusals_show_on_the_sign_up_fields(client, api):
    details = {
        "password": ["This password is too common."],
        "username": ["A user with that username already exists."],
    }
    api.add("POST", "/api/users/", status=400, body=error("validation_error", "Invalid.", details))

    response = client.post(
        "/signup/", {"username": "ada", "email": "ada@example.com", "password": "password"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "This password is too common." in body
    assert "A user with that username already exists." in body


def test_next_never_leads_off_the_site(client, api, tokens):
    api.add("POST", "/api/auth/token/", json=tokens)
    api.add("GET", "/api/cart/", json=cart("user:7", []))

    response = client.post(
        "/signin/", {"username": "ada", "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


def test_signing_out_revokes_the_refresh_token_and_forgets_everything(signed_in, api, tokens):
    api.add("POST", "/api/auth/logout/", status=204, body=b"")

    response = signed_in.post("/signout/")

    assert response.status_code == 302
    assert calls(api, "POST", "/api/auth/logout/")[0].json() == {"refresh": tokens["refresh"]}
    assert "account" not in signed_in.session


def test_signing_out_works_when_the_gateway_is_down(signed_in, api, settings):
    settings.STOREFRONT = {**settings.STOREFRONT, "GATEWAY_URL": "http://127.0.0.1:9"}
    from storefront.clients import gateway

    gateway.reset()

    response = signed_in.post("/signout/")

    assert response.status_code == 302
    assert "account" not in signed_in.session


def test_an_access_token_about_to_expire_is_renewed_before_the_call(client, api, token_factory):
    expiring = token_factory.access(user_id=7, username="ada", lifetime=30)
    fresh = token_factory.access(user_id=7, username="ada", lifetime=300)
    remember(client, account={"username": "ada", "access": expiring, "refresh": "r1"})
    api.add("POST", "/api/auth/token/refresh/", json={"access": fresh, "refresh": "r2"})
    api.add("GET", "/api/orders/", json=page([]))

    client.get("/orders/")

    assert calls(api, "POST", "/api/auth/token/refresh/")[0].json() == {"refresh": "r1"}
    assert calls(api, "GET", "/api/orders/")[0].headers["Authorization"] == f"Bearer {fresh}"
    assert client.session["account"]["refresh"] == "r2"


def test_a_refused_access_token_is_renewed_once_and_the_call_made_again(
    signed_in, api, token_factory
):
    fresh = token_factory.access(user_id=7, username="ada", lifetime=300)
    api.add("GET", "/api/orders/", status=401, body=error("not_authenticated", "Expired."))
    api.add("GET", "/api/orders/", json=page([]))
    api.add("POST", "/api/auth/token/refresh/", json={"access": fresh, "refresh": "r2"})

    response = signed_in.get("/orders/")

    assert response.status_code == 200
    sent = [call.headers["Authorization"] for call in calls(api, "GET", "/api/orders/")]
    assert len(sent) == 2
    assert sent[-1] == f"Bearer {fresh}"


def test_a_refresh_token_the_api_refuses_ends_the_session(client, api, token_factory):
    expired = token_factory.access(user_id=7, username="ada", lifetime=-10)
    remember(client, account={"username": "ada", "access": expired, "refresh": "revoked"})
    api.add("POST", "/api/auth/token/refresh/", status=401, body=error("not_authenticated", "No."))

    response = client.get("/orders/")

    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=%2Forders%2F"
    assert "account" not in client.session
    page_shown = client.get(response["Location"]).content.decode()
    assert "Your session has ended. Please sign in again." in page_shown
    assert not calls(api, "GET", "/api/orders/")


def test_a_renewal_lost_to_another_request_carries_on_with_the_access_token(
    client, api, token_factory
):
    """Two requests of one browser renewing at once send one refresh token; the API
    takes the first. The second carries on with its access token, still valid."""
    expiring = token_factory.access(user_id=7, username="ada", lifetime=30)
    remember(client, account={"username": "ada", "access": expiring, "refresh": "r1"})
    api.add(
        "POST", "/api/auth/token/refresh/", status=401, body=error("not_authenticated", "Used.")
    )
    api.add("GET", "/api/orders/", json=page([]))

    response = client.get("/orders/")

    assert response.status_code == 200
    assert calls(api, "GET", "/api/orders/")[0].headers["Authorization"] == f"Bearer {expiring}"
    assert client.session["account"]["refresh"] == "r1"


def test_a_cart_that_cannot_be_merged_leaves_the_shopper_signed_in_and_saying_so(
    client, api, tokens
):
    a_guest_with_a_cart(client, api)
    api.add("POST", "/api/auth/token/", json=tokens)
    api.add(
        "POST",
        "/api/cart/merge/",
        status=400,
        body=error("validation_error", "A cart holds at most 50 lines."),
    )
    api.add("POST", "/api/cart/merge/", json=cart("user:7", [(1, "Sencha green tea", "9.50", 2)]))
    api.add("GET", "/api/cart/", json=cart("user:7", [(1, "Sencha green tea", "9.50", 2)]))

    signed_in = client.post("/signin/", {"username": "ada", "password": PASSWORD}, follow=True)

    body = signed_in.content.decode()
    assert "Welcome back, ada." in body
    assert "Your guest cart could not be added to your account just now" in body
    assert client.session["cart_id"] == "guest-cart-1"

    # Opening the cart tries again.
    again = client.get("/cart/").content.decode()

    assert "Your guest cart is with your account now." in again
    assert "cart_id" not in client.session
    assert len(calls(api, "POST", "/api/cart/merge/")) == 2


def test_signing_in_gives_a_new_csrf_secret(client, api, tokens):
    api.add("POST", "/api/auth/token/", json=tokens)
    api.add("GET", "/api/cart/", json=cart("user:7", []))
    client.get("/signin/")
    before = client.cookies["souk_csrftoken"].value

    client.post("/signin/", {"username": "ada", "password": PASSWORD})

    assert client.cookies["souk_csrftoken"].value != before


def test_a_session_ended_during_an_htmx_poll_returns_to_the_page_not_the_fragment(
    client, api, token_factory
):
    expired = token_factory.access(user_id=7, username="ada", lifetime=-10)
    remember(client, account={"username": "ada", "access": expired, "refresh": "revoked"})
    api.add("POST", "/api/auth/token/refresh/", status=401, body=error("not_authenticated", "No."))
    order_page = "/orders/3d1b7664-02b3-4161-8e21-3f32fd57a6f2/"

    response = client.get(
        f"{order_page}status/",
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{order_page}"},
    )

    assert (
        response["HX-Redirect"]
        == "/signin/?next=%2Forders%2F3d1b7664-02b3-4161-8e21-3f32fd57a6f2%2F"
    )


def test_a_session_ended_by_a_form_returns_to_the_page_the_form_was_on(client, api, token_factory):
    expired = token_factory.access(user_id=7, username="ada", lifetime=-10)
    remember(client, account={"username": "ada", "access": expired, "refresh": "revoked"})
    api.add("POST", "/api/auth/token/refresh/", status=401, body=error("not_authenticated", "No."))

    response = client.post(
        "/cart/add/",
        {"product_id": 1, "quantity": 1},
        headers={"Referer": "http://testserver/products/1/"},
    )

    assert response["Location"] == "/signin/?next=http%3A%2F%2Ftestserver%2Fproducts%2F1%2F"


def test_a_reset_link_no_longer_valid_says_so_and_offers_a_new_one(client, api):
    details = {"token": ["This link is invalid or has expired."]}
    api.add(
        "POST",
        "/api/auth/password-reset/confirm/",
        status=400,
        body=error("validation_error", "Invalid.", details),
    )

    response = client.post(
        "/password-reset/confirm/", {"token": "used-token", "new_password": "a-new-passphrase-42"}
    )

    body = response.content.decode()
    assert "This link is invalid or has expired." in body
    assert 'href="/password-reset/">Ask for a new link' in body
