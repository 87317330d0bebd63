"""The gateway admin's route list: the routes in force, built-in defaults included, each
saying whether it comes from the built-in defaults in settings or from a row edited here."""

import re

import pytest
from django.conf import settings

from proxy.models import Route

pytestmark = pytest.mark.django_db

ROUTES = "/admin/proxy/route/"


def in_force(page):
    """Each route in force the page shows: {prefix: (upstream, source)}."""
    text = page.content.decode()
    table = text[text.index('id="routes-in-force"') : text.index("Overrides edited here")]
    rows = re.findall(r'<tr class="route-in-force[^"]*">(.*?)</tr>', table, re.S)
    shown = {}
    for row in rows:
        cells = [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        shown[cells[0]] = (cells[1].split(" ")[0], cells[-1])
    return shown


def test_with_no_rows_the_list_shows_every_built_in_default(admin_client):
    page = admin_client.get(ROUTES)

    assert page.status_code == 200
    defaults = {route["prefix"]: route["upstream"] for route in settings.GATEWAY_ROUTES}
    shown = in_force(page)
    assert {prefix: upstream for prefix, (upstream, _) in shown.items()} == defaults
    assert {source for _, source in shown.values()} == {
        "built-in default (GATEWAY_ROUTES in settings)"
    }
    assert "/api/checkout/" in shown


def test_rows_edited_here_are_shown_over_the_defaults_and_say_so(admin_client):
    Route.objects.create(prefix="/api/products/", upstream="products", timeout_seconds=2.5)
    Route.objects.create(prefix="/api/reviews/", upstream="products")
    Route.objects.create(prefix="/api/payments/", upstream="payments", enabled=False)

    page = admin_client.get(ROUTES)

    shown = in_force(page)
    assert shown["/api/products/"] == (
        "products",
        "admin (a row below, over the built-in default)",
    )
    assert shown["/api/reviews/"] == ("products", "admin (a row below)")
    assert shown["/api/orders/"] == ("orders", "built-in default (GATEWAY_ROUTES in settings)")
    assert "/api/payments/" not in shown  # switched off, and said so
    assert "switched off by a disabled row below: /api/payments/." in page.content.decode()
    products_row = re.search(r"<td>/api/products/</td>(.*?)</tr>", page.content.decode(), re.S)
    assert "<td>2.5</td>" in products_row.group(1)


def test_routes_in_force_are_listed_longest_prefix_first_as_they_are_matched(admin_client):
    prefixes = list(in_force(admin_client.get(ROUTES)))

    assert prefixes.index("/api/auth/token/refresh/") < prefixes.index("/api/auth/token/")
    assert prefixes.index("/api/auth/token/") < prefixes.index("/api/auth/")


def test_view_site_leads_to_the_routes_in_force_without_a_storefront(admin_client, settings):
    settings.STOREFRONT_URL = ""

    page = admin_client.get("/admin/")

    assert 'href="/admin/proxy/route/">View site' in page.content.decode()
    assert admin_client.get("/admin/proxy/route/").status_code == 200
