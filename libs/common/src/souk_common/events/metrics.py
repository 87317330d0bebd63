"""The events' numbers in ``/metrics``: the outbox's backlog and the consumer's inbox,
read from this service's database at each scrape (``event_stats``: two queries)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from souk_common.events.stats import event_stats
from souk_common.metrics import DatabaseCollector


class EventsCollector(DatabaseCollector):
    def read(self) -> Iterable[Metric]:
        stats = event_stats()
        yield GaugeMetricFamily(
            "souk_outbox_waiting_events",
            "Committed events the relay has not published yet.",
            value=stats.outbox_waiting,
        )
        yield GaugeMetricFamily(
            "souk_outbox_oldest_age_seconds",
            "How long the oldest unpublished event has waited (0: none waits).",
            value=stats.outbox_oldest_age_seconds,
        )
        # Gauges, not counters: read from the inbox, they can fall (a replayed dead
        # letter starts its attempts again), and every replica reports the same rows.
        yield GaugeMetricFamily(
            "souk_consumer_handled_events",
            "Events this service's consumer has handled (each once), as its inbox holds them.",
            value=stats.handled,
        )
        yield GaugeMetricFamily(
            "souk_consumer_failed_attempts",
            "Failed attempts of this service's handlers over the events its inbox holds.",
            value=stats.failed_attempts,
        )
        yield GaugeMetricFamily(
            "souk_consumer_retrying_events",
            "Events whose handler failed, waiting for their next attempt.",
            value=stats.retrying,
        )
        yield GaugeMetricFamily(
            "souk_dead_letters",
            "Events given up on, waiting for an operator (dead_letters --replay).",
            value=stats.dead_letters,
        )
