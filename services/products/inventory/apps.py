from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from inventory.metrics import ReservationsCollector
        from souk_common import metrics

        metrics.register_collector(ReservationsCollector)
