"""Staff edit the rates in the admin, and quotes follow at once; they see the shipments
events made, read-only."""

import pytest

from shipping.models import Shipment, ShippingRate
from tests.conftest import cancelled_event, paid_event
from tests.test_internal_quote import internal_quote

pytestmark = pytest.mark.django_db

RATES = "/admin/shipping/shippingrate/"
SHIPMENTS = "/admin/shipping/shipment/"


def rate_form(**changes):
    return {
        "country": "se",
        "country_name": "Sweden",
        "carrier": "PostNord",
        "base_cost": "9.95",
        "per_item_cost": "1.25",
        "free_over": "",
        "estimated_days": "6",
        **changes,
    }


def test_staff_add_a_country_and_it_is_quoted_by_its_rule(admin_client, orders_service):
    added = admin_client.post(f"{RATES}add/", rate_form())

    assert added.status_code == 302
    rate = ShippingRate.objects.get(country="SE")
    assert (rate.carrier, rate.free_over) == ("PostNord", None)
    response = internal_quote(orders_service, subtotal="500.00", item_count=2, country="se")
    assert response.json() == {
        "country": "SE",
        "cost": "12.45",  # 9.95 + 2 x 1.25, never free
        "carrier": "PostNord",
        "estimated_days": 6,
        "free_over": None,
    }


def test_staff_change_a_rate_and_the_next_quote_uses_it(admin_client, orders_service):
    gb = ShippingRate.objects.get(country="GB")
    form = rate_form(
        country="GB", country_name="United Kingdom", carrier="Evri", base_cost="2.00",
        per_item_cost="0.10", free_over="50.00", estimated_days="3",
    )  # fmt: skip

    changed = admin_client.post(f"{RATES}{gb.pk}/change/", form)
    below = internal_quote(orders_service, subtotal="49.99", item_count=3)
    free = internal_quote(orders_service, subtotal="50.00", item_count=3)

    assert changed.status_code == 302
    assert (below.json()["cost"], below.json()["carrier"]) == ("2.30", "Evri")
    assert free.json()["cost"] == "0.00"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "S1"}, "country"),
        ({"country": "GB"}, "country"),  # GB has a rate already
        ({"base_cost": "-1.00"}, "base_cost"),
        ({"per_item_cost": "0.001"}, "per_item_cost"),
        ({"free_over": "-5"}, "free_over"),
        ({"estimated_days": "0"}, "estimated_days"),
    ],
)
def test_a_rate_that_makes_no_sense_is_refused(admin_client, changes, field):
    page = admin_client.post(f"{RATES}add/", rate_form(**changes))

    assert page.status_code == 200  # the form again, with its errors
    assert field in page.context["adminform"].form.errors
    assert not ShippingRate.objects.filter(country_name="Sweden").exists()


def test_staff_see_shipments_find_them_and_cannot_change_them(admin_client, inbox):
    shipped, cancelled = paid_event(country="DE"), paid_event(country="US")
    for event in (shipped, cancelled):
        inbox.receive(event)
    inbox.receive(cancelled_event(order_id=cancelled.data["order_id"], was_paid=True))
    shipment = Shipment.objects.get(order_id=shipped.data["order_id"])

    listed = admin_client.get(SHIPMENTS).content.decode()
    by_tracking = admin_client.get(SHIPMENTS, {"q": shipment.tracking_number}).content.decode()
    by_order = admin_client.get(SHIPMENTS, {"q": cancelled.data["order_id"]}).content.decode()
    page = admin_client.get(f"{SHIPMENTS}{shipment.pk}/change/")
    add = admin_client.get(f"{SHIPMENTS}add/")

    assert shipment.tracking_number in listed
    assert "DHL" in listed
    assert "UPS" in listed
    assert shipment.tracking_number in by_tracking
    assert cancelled.data["order_id"] not in by_tracking
    assert cancelled.data["order_id"] in by_order
    assert shipment.tracking_number not in by_order
    assert page.status_code == 200
    assert b"View shipment" in page.content
    assert add.status_code == 403
