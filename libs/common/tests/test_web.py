"""What a browser and an API client each get: the browsable API, ``/``, "View site", gzip."""

import gzip
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from souk_common.conf import souk_settings

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_api_clients_get_json_by_default():
    for accept in (None, "*/*", "application/json", "application/json, text/html"):
        headers = {"HTTP_ACCEPT": accept} if accept else {}
        response = Client().get("/shelves/", **headers)

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"shelves": 3}
        assert "Accept" in response["Vary"]


def test_a_browser_gets_the_browsable_api():
    response = Client().get("/shelves/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Anyone lists." in page  # the view's description
    assert "&quot;shelves&quot;: 3" in page  # the same answer, as a page
    assert "cdn." not in page  # its assets are served locally


def test_format_api_gives_the_page_and_format_json_the_json():
    page = Client().get("/shelves/?format=api")
    data = Client().get("/shelves/?format=json", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert data.json() == {"shelves": 3}


def test_the_page_shows_who_is_signed_in_but_never_the_token(token_factory):
    token = token_factory.access(user_id=7, username="bob")

    response = Client().get(
        "/whoami/", HTTP_ACCEPT=BROWSER_ACCEPT, HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert '<li class="navbar-text">bob</li>' in page
    assert token not in page
    assert token.split(".")[1] not in page  # nor its claims
    assert not response.cookies  # no session, and no CSRF cookie: the API takes neither


def test_errors_stay_the_json_envelope_for_api_clients():
    response = Client().get("/whoami/", HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_error_is_shown_in_the_page_to_a_browser():
    response = Client().get("/whoami/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 401
    assert response["Content-Type"].startswith("text/html")
    assert "not_authenticated" in response.content.decode()


def test_the_site_root_leads_to_the_api_docs():
    response = Client().get("/")

    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"
    assert Client().get(response["Location"]).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("storefront", "expected"),
    [("", "/api/docs/"), ("https://shop.example", "https://shop.example")],
)
def test_the_admins_view_site_leads_to_the_storefront_or_the_docs(settings, storefront, expected):
    settings.STOREFRONT_URL = storefront
    User.objects.create_user("boss", password="right-password-1", is_staff=True, is_superuser=True)
    client = Client()
    client.login(username="boss", password="right-password-1")

    response = client.get("/admin/")

    assert response.status_code == 200
    assert response.context["site_url"] == expected
    assert f'href="{expected}">View site' in response.content.decode()


def test_a_large_answer_is_gzipped_for_a_client_that_accepts_it():
    plain = Client().get("/shelf-catalogue/")
    zipped = Client().get("/shelf-catalogue/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert int(zipped["Content-Length"]) == len(zipped.content) < len(plain.content) / 4
    assert json.loads(gzip.decompress(zipped.content)) == plain.json()


def test_a_small_answer_is_sent_as_it_is():
    small = Client().get("/shelf-catalogue/?count=20", HTTP_ACCEPT_ENCODING="gzip")

    assert len(small.content) < souk_settings.GZIP_MIN_BYTES
    assert "Content-Encoding" not in small
    assert small.json()["results"][0] == {"shelf": 0, "label": "Shelf 0"}


def test_the_size_limit_is_a_setting(settings):
    settings.SOUK = {**settings.SOUK, "GZIP_MIN_BYTES": 100}

    small = Client().get("/shelf-catalogue/?count=20", HTTP_ACCEPT_ENCODING="gzip")

    assert small["Content-Encoding"] == "gzip"


def test_a_client_that_accepts_gzip_gets_weak_etags_even_on_small_answers():
    """So that a 304, too small to compress, repeats the ETag of a compressed 200."""
    from django.test import RequestFactory
    from django.utils.cache import set_response_etag

    from souk_common.compression import GZipMiddleware

    def small(request):
        from django.http import HttpResponse

        return set_response_etag(HttpResponse(b"{}", content_type="application/json"))

    middleware = GZipMiddleware(small)
    zipped = middleware(RequestFactory().get("/", HTTP_ACCEPT_ENCODING="gzip"))
    plain = middleware(RequestFactory().get("/"))

    assert zipped["ETag"].startswith('W/"')
    assert zipped["ETag"][2:] == plain["ETag"]
    assert "Accept-Encoding" in zipped["Vary"]
    assert "Content-Encoding" not in zipped
