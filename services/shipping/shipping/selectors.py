"""Reads of the shipping app: ``<entity>_<what>(*, ...)``, returning models or querysets."""

import uuid

from django.db.models import QuerySet

from shipping.models import Shipment, ShippingRate


def rate_list() -> QuerySet[ShippingRate]:
    """The countries the shop ships to, with their rates, by country code."""
    return ShippingRate.objects.order_by("country")


def rate_for_country(*, country: str) -> ShippingRate | None:
    """The rate of ``country`` (an ISO 3166-1 alpha-2 code), or None: not shipped to."""
    return ShippingRate.objects.filter(country=country.upper()).first()


def shipment_for_order(*, order_id: uuid.UUID) -> Shipment | None:
    """The shipment of an order (its id from the orders service), if it has one."""
    return Shipment.objects.filter(order_id=order_id).first()
