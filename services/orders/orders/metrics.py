"""Orders in ``/metrics``: how many are in each status, read at each scrape."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from orders.models import Order
from souk_common.metrics import DatabaseCollector


class OrdersCollector(DatabaseCollector):
    def read(self) -> Iterable[Metric]:
        counts = dict(Order.objects.order_by().values_list("status").annotate(count=Count("id")))
        family = GaugeMetricFamily("souk_orders", "Orders by status.", labels=["status"])
        for status in Order.Status.values:
            family.add_metric([status], counts.get(status, 0))
        yield family
