"""Routes edited in the gateway's admin; they override the defaults in settings."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

# Only under /api/: /internal/ and /admin/ can never be routed, whatever is typed here.
PREFIX_FORMAT = RegexValidator(
    r"^/api/[a-z0-9-]+/([a-z0-9-]+/)*$",
    "A prefix looks like /api/<name>/ (lower case, ending with a slash).",
)
METHODS = {"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"}


class Route(models.Model):
    """How requests under one path prefix are forwarded (overrides the setting of that prefix)."""

    prefix = models.CharField(max_length=100, unique=True, validators=[PREFIX_FORMAT])
    upstream = models.CharField(max_length=50, help_text="A name in GATEWAY_UPSTREAMS.")
    methods = models.CharField(
        max_length=100,
        default="GET,HEAD,OPTIONS,POST,PUT,PATCH,DELETE",
        help_text="Comma-separated HTTP methods allowed through.",
    )
    auth_required = models.BooleanField(
        default=False, help_text="Refuse requests without a valid access token at the edge."
    )
    timeout_seconds = models.FloatField(
        default=10.0, validators=[MinValueValidator(0.1), MaxValueValidator(120)]
    )
    max_body_bytes = models.PositiveIntegerField(
        default=1024 * 1024, validators=[MaxValueValidator(100 * 1024 * 1024)]
    )
    rate_limit_class = models.CharField(max_length=50, default="default")
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["prefix"]

    def __str__(self) -> str:
        return f"{self.prefix} -> {self.upstream}"

    def clean(self) -> None:
        errors = {}
        if self.upstream not in settings.GATEWAY_UPSTREAMS:
            errors["upstream"] = f"Use one of {sorted(settings.GATEWAY_UPSTREAMS)}."
        unknown = {m.strip().upper() for m in self.methods.split(",")} - METHODS
        if unknown:
            errors["methods"] = f"Unknown methods: {sorted(unknown)}."
        if self.rate_limit_class not in settings.GATEWAY_RATE_LIMITS:
            errors["rate_limit_class"] = f"Use one of {sorted(settings.GATEWAY_RATE_LIMITS)}."
        if errors:
            raise ValidationError(errors)
