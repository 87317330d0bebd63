"""Checkout: one order per checkout form, the API's refusals in words, the live quote."""

import json
import re
import threading

from souk_common.testing import Hung
from storefront.clients import gateway as gateway_client
from tests.answers import ADDRESS, COUNTRIES, ORDER_ID, calls, cart, error, order

QUOTE = {
    "country": "FR",
    "cost": "7.95",
    "carrier": "Colissimo",
    "estimated_days": 4,
    "free_over": "100.00",
}


def a_cart_to_check_out(api):
    api.replace(
        "GET",
        "/api/cart/",
        json=cart("user:7", [(1, "Sencha green tea", "9.50", 2), (2, "Assam tea", "12.00", 1)]),
    )
    api.add("GET", "/api/shipping/countries/", json=COUNTRIES)
    api.add("POST", "/api/shipping/quotes/", json=QUOTE)


def the_form_key(page: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page).group(1)


def test_checkout_asks_a_guest_to_sign_in_first(client, api):
    response = client.get("/checkout/")

    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=%2Fcheckout%2F"


def test_the_checkout_form_carries_its_own_idempotency_key(signed_in, api):
    a_cart_to_check_out(api)

    first = the_form_key(signed_in.get("/checkout/").content.decode())
    second = the_form_key(signed_in.get("/checkout/").content.decode())

    assert first != second


def test_placing_the_order_sends_the_forms_key_and_shows_the_order(signed_in, api, tokens):
    a_cart_to_check_out(api)
    api.add("POST", "/api/checkout/", status=202, json=order(ORDER_ID))
    key = the_form_key(signed_in.get("/checkout/").content.decode())

    response = signed_in.post(
        "/checkout/", {**ADDRESS, "payment_token": "tok_visa", "idempotency_key": key}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/orders/{ORDER_ID}/"
    sent = calls(api, "POST", "/api/checkout/")[0]
    assert sent.headers["Idempotency-Key"] == key
    assert sent.headers["Authorization"] == f"Bearer {tokens['access']}"
    assert sent.json() == {"shipping_address": ADDRESS, "payment_token": "tok_visa"}


def test_a_send_meeting_the_same_form_still_running_waits_for_its_order(signed_in, api):
    """The second send meets the first still running (409 conflict): it waits for the
    first's answer, which the API then gives it too."""
    a_cart_to_check_out(api)
    started = threading.Event()

    def answer(request):
        if not started.is_set():
            started.set()
            return (
                409,
                {},
                error("conflict", "A request with this Idempotency-Key is still being processed."),
            )
        return 202, {}, json.dumps(order(ORDER_ID))

    api.add_callback("POST", "/api/checkout/", answer)
    key = the_form_key(signed_in.get("/checkout/").content.decode())

    response = signed_in.post(
        "/checkout/", {**ADDRESS, "payment_token": "tok_visa", "idempotency_key": key}
    )

    assert response["Location"] == f"/orders/{ORDER_ID}/"
    assert {call.headers["Idempotency-Key"] for call in calls(api, "POST", "/api/checkout/")} == {
        key
    }


def test_out_of_stock_names_the_product(signed_in, api):
    a_cart_to_check_out(api)
    details = {
        "lines": [{"product_id": 2, "requested": 1, "available": 0}],
        "order_status": "rejected",
    }
    api.add(
        "POST",
        "/api/checkout/",
        status=409,
        body=error("out_of_stock", "Not enough stock.", details),
    )
    key = the_form_key(signed_in.get("/checkout/").content.decode())

    response = signed_in.post(
        "/checkout/", {**ADDRESS, "payment_token": "tok_visa", "idempotency_key": key}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Assam tea is out of stock" in page
    # The key keeps that answer: once the cart is changed, the form is a new checkout.
    assert the_form_key(page) != key


def test_a_key_reused_for_another_cart_gets_a_new_key_and_a_second_look(signed_in, api):
    a_cart_to_check_out(api)
    api.add(
        "POST", "/api/checkout/", status=422, body=error("idempotency_key_reused", "Other body.")
    )
    key = the_form_key(signed_in.get("/checkout/").content.decode())

    response = signed_in.post(
        "/checkout/", {**ADDRESS, "payment_token": "tok_visa", "idempotency_key": key}
    )

    page = response.content.decode()
    assert "Your cart changed meanwhile" in page
    assert the_form_key(page) != key


def test_an_address_the_api_refuses_shows_on_its_field(signed_in, api):
    a_cart_to_check_out(api)
    details = {"shipping_address": {"postal_code": ["Not a postal code of France."]}}
    api.add(
        "POST", "/api/checkout/", status=400, body=error("validation_error", "Invalid.", details)
    )
    key = the_form_key(signed_in.get("/checkout/").content.decode())

    response = signed_in.post(
        "/checkout/", {**ADDRESS, "payment_token": "tok_visa", "idempotency_key": key}
    )

    assert "Not a postal code of France." in response.content.decode()


def test_the_shipping_quote_follows_the_address(signed_in, api):
    a_cart_to_check_out(api)

    response = signed_in.post(
        "/checkout/quote/",
        {"country": "FR", "postal_code": "75002"},
        headers={"HX-Request": "true"},
    )

    sent = calls(api, "POST", "/api/shipping/quotes/")[0].json()
    assert sent == {
        "items": [{"product_id": 1, "quantity": 2}, {"product_id": 2, "quantity": 1}],
        "address": {"country": "FR", "postal_code": "75002"},
    }
    body = response.content.decode()
    assert "Colissimo" in body
    assert "€7.95" in body
    assert "€38.95" in body


def test_without_javascript_the_quote_button_shows_the_cost_and_places_nothing(signed_in, api):
    a_cart_to_check_out(api)

    response = signed_in.post("/checkout/", {**ADDRESS, "quote": "1", "idempotency_key": "a" * 32})

    assert "€38.95" in response.content.decode()
    assert not calls(api, "POST", "/api/checkout/")


def test_a_checkout_with_no_answer_in_time_is_sent_again_with_its_key(signed_in, api, settings):
    settings.STOREFRONT = {**settings.STOREFRONT, "CHECKOUT_READ_TIMEOUT": 0.3}
    gateway_client.reset()
    a_cart_to_check_out(api)
    answers = iter([Hung(1.0)])

    def answer(request):
        hung = next(answers, None)
        if hung is not None:
            raise hung
        return 202, {}, json.dumps(order(ORDER_ID))

    api.add_callback("POST", "/api/checkout/", answer)
    key = the_form_key(signed_in.get("/checkout/").content.decode())

    response = signed_in.post(
        "/checkout/", {**ADDRESS, "payment_token": "tok_visa", "idempotency_key": key}
    )

    assert response["Location"] == f"/orders/{ORDER_ID}/"
    sent = calls(api, "POST", "/api/checkout/")
    assert len(sent) == 2
    assert {call.headers["Idempotency-Key"] for call in sent} == {key}


def test_a_checkout_never_answered_keeps_its_key_to_be_sent_again(signed_in, api, settings):
    settings.STOREFRONT = {
        **settings.STOREFRONT,
        "CHECKOUT_READ_TIMEOUT": 0.2,
        "CHECKOUT_WAIT_SECONDS": 0.5,
    }
    gateway_client.reset()
    a_cart_to_check_out(api)

    def hang(request):
        raise Hung(0.5)

    api.add_callback("POST", "/api/checkout/", hang)
    key = the_form_key(signed_in.get("/checkout/").content.decode())

    response = signed_in.post(
        "/checkout/", {**ADDRESS, "payment_token": "tok_visa", "idempotency_key": key}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "We could not confirm your order in time" in page
    assert the_form_key(page) == key


def test_a_tampered_key_is_refused_before_the_api_is_asked(signed_in, api):
    a_cart_to_check_out(api)

    response = signed_in.post(
        "/checkout/", {**ADDRESS, "payment_token": "tok_visa", "idempotency_key": "k\r\nX-Evil: 1"}
    )

    assert response.status_code == 400
    assert not calls(api, "POST", "/api/checkout/")
