from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "souk_common.events"
    label = "souk_events"
    verbose_name = "Events"
    default_auto_field = "django.db.models.BigAutoField"
