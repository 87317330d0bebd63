from django.apps import AppConfig


class EventsAppConfig(AppConfig):
    name = "tests.eventsapp"
    label = "eventsapp"
