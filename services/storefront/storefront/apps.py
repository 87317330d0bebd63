from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "storefront"
    verbose_name = "Storefront"

    def ready(self) -> None:
        from souk_common.tracing import tracing_configure

        # Spans exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; else nothing.
        tracing_configure("storefront")
