"""Stock reservations in ``/metrics``, read at each scrape: how many reservations are in
each status, and how many units the live ones hold."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Sum
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from inventory.models import Reservation, ReservationLine
from souk_common.metrics import DatabaseCollector


class ReservationsCollector(DatabaseCollector):
    def read(self) -> Iterable[Metric]:
        counts = dict(
            Reservation.objects.order_by().values_list("status").annotate(count=Count("id"))
        )
        reservations = GaugeMetricFamily(
            "souk_stock_reservations", "Stock reservations by status.", labels=["status"]
        )
        for status in Reservation.Status.values:
            reservations.add_metric([status], counts.get(status, 0))
        yield reservations
        held = ReservationLine.objects.filter(
            reservation__status=Reservation.Status.RESERVED
        ).aggregate(units=Sum("quantity"))["units"]
        yield GaugeMetricFamily(
            "souk_stock_held_units", "Units held by live reservations.", value=held or 0
        )
