"""The payments admin. What it writes goes through the app's services, as the API's writes
do: no rule is written twice."""

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from payments import services
from payments.models import Example


@admin.register(Example)
class ExampleAdmin(admin.ModelAdmin):
    list_display = ["name", "user_id", "created_at"]
    search_fields = ["name", "=user_id"]
    readonly_fields = ["created_at"]

    def save_model(self, request: HttpRequest, obj: Example, form: ModelForm, change: bool) -> None:
        """Adding calls the service the API calls; the admin goes on with what it made."""
        made = services.example_create(
            user_id=form.cleaned_data["user_id"], name=form.cleaned_data["name"]
        )
        obj.pk = made.pk
        obj.refresh_from_db()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an example has no service that changes it: staff see it, read-only
