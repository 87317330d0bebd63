from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "souk_common.events"
    label = "souk_events"
    verbose_name = "Events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from souk_common import metrics
        from souk_common.events.metrics import EventsCollector

        metrics.register_collector(EventsCollector)
