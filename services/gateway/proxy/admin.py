"""The gateway admin: route overrides, applied by every worker within seconds."""

from django.contrib import admin

from proxy.models import Route


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "upstream",
        "methods",
        "auth_required",
        "timeout_seconds",
        "max_body_bytes",
        "rate_limit_class",
        "enabled",
        "updated_at",
    ]
    list_filter = ["upstream", "enabled", "auth_required"]
    search_fields = ["prefix"]
