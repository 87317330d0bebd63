from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from orders.metrics import OrdersCollector
        from souk_common import metrics

        metrics.register_collector(OrdersCollector)
