"""What the storefront promises about the session: CSRF on every form, cookie flags, the
tokens never in a page, a policy that lets no foreign script run."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.answers import ORDER_ID, PASSWORD, cart, order, page, product

HERE = Path(__file__).resolve().parent.parent


def test_a_post_without_the_csrf_token_is_refused_with_a_page(api):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post("/cart/add/", {"product_id": 1, "quantity": 1})

    assert response.status_code == 403
    assert "nothing was done" in response.content.decode()
    assert not api.calls


def test_a_post_with_the_forms_token_is_accepted(api, tokens):
    api.add("POST", "/api/auth/token/", json=tokens)
    api.add("GET", "/api/cart/", json=cart("user:7", []))
    browser = Client(enforce_csrf_checks=True)
    form = browser.get("/signin/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)

    response = browser.post(
        "/signin/", {"username": "ada", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302


def test_the_session_and_csrf_cookies_are_httponly_and_samesite_lax(signed_in):
    signed_in.get("/cart/")  # a page with a form: it sets the CSRF cookie
    session = signed_in.cookies["souk_session"]
    csrf = signed_in.cookies["souk_csrftoken"]

    for cookie in (session, csrf):
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"


def test_production_sends_the_cookies_over_https_only():
    script = (
        "from django.conf import settings; "
        "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.DEBUG)"
    )
    env = {
        **os.environ,
        "SOUK_ENV": "production",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "shop.example",
        "DJANGO_SETTINGS_MODULE": "storefront_service.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=HERE, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert result.stdout.split() == ["True", "True", "False"]


def test_no_page_ever_shows_a_token(signed_in, api, tokens):
    api.replace("GET", "/api/cart/", json=cart("user:7", [(1, "Sencha green tea", "9.50", 2)]))
    api.add("GET", "/api/products/", json=page([product(1, "Sencha green tea")]))
    api.add("GET", "/api/products/categories/", json=page([]))
    api.add("GET", "/api/products/1/", json=product(1, "Sencha green tea"))
    api.add("GET", "/api/shipping/countries/", json=page([]))
    api.add("GET", "/api/orders/", json=page([order(ORDER_ID)]))
    api.add("GET", f"/api/orders/{ORDER_ID}/", json=order(ORDER_ID))

    pages = [
        signed_in.get(path)
        for path in (
            "/",
            "/products/1/",
            "/cart/",
            "/checkout/",
            "/orders/",
            f"/orders/{ORDER_ID}/",
        )
    ]

    for response in pages:
        assert response.status_code == 200
        body = response.content.decode()
        assert tokens["access"] not in body
        assert tokens["refresh"] not in body
        # Nor any part of one: the signature, the claims.
        for part in tokens["access"].split("."):
            assert part not in body
    # The session's cookie holds them, signed and HttpOnly; no other cookie does.
    assert set(signed_in.cookies) <= {"souk_session", "souk_csrftoken", "messages"}
    for name in set(signed_in.cookies) - {"souk_session"}:
        assert tokens["refresh"] not in signed_in.cookies[name].value


@pytest.mark.parametrize("path", ["/", "/signin/"])
def test_pages_allow_scripts_and_styles_from_the_site_alone(client, api, path):
    api.add("GET", "/api/products/", json=page([]))
    api.add("GET", "/api/products/categories/", json=page([]))

    response = client.get(path)

    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.content.decode())
    assert ' style="' not in response.content.decode()
