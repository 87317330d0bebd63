"""The users admin: accounts and service clients."""

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from accounts.models import ServiceClient, User

admin.site.register(User, UserAdmin)


class ServiceClientForm(forms.ModelForm):
    """Scopes from the known list; a new secret is hashed and never shown again."""

    new_secret = forms.CharField(
        required=False,
        min_length=16,
        widget=forms.PasswordInput(render_value=False),
        help_text="Set or replace the secret (stored hashed). Leave empty to keep it.",
    )
    scope_choices = forms.MultipleChoiceField(
        choices=[], widget=forms.CheckboxSelectMultiple, label="Scopes"
    )

    class Meta:
        model = ServiceClient
        fields = ["client_id", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope_field = cast(forms.MultipleChoiceField, self.fields["scope_choices"])
        scope_field.choices = [(s, s) for s in settings.SERVICE_SCOPES]
        self.fields["scope_choices"].initial = self.instance.scope_list
        if not self.instance.pk:
            self.fields["new_secret"].required = True

    def save(self, commit: bool = True) -> ServiceClient:
        client: ServiceClient = super().save(commit=False)
        client.scopes = " ".join(sorted(self.cleaned_data["scope_choices"]))
        if self.cleaned_data["new_secret"]:
            client.set_secret(self.cleaned_data["new_secret"])
        if commit:
            client.save()
        return client


@admin.register(ServiceClient)
class ServiceClientAdmin(admin.ModelAdmin):
    form = ServiceClientForm
    list_display = ["client_id", "scopes", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["client_id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["client_id"] if obj else []
