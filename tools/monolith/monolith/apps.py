from django.apps import AppConfig


class MonolithConfig(AppConfig):
    name = "monolith"
    default_auto_field = "django.db.models.BigAutoField"
