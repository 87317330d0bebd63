"""The users admin: accounts and service clients, changed through the services the API
and the commands use, so that each rule is written once."""

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from accounts import services
from accounts.models import ServiceClient, User
from souk_common.errors import InvalidInput


@admin.register(User)
class AccountAdmin(UserAdmin):
    """Django's user admin, where a change of ``is_active`` or ``is_staff`` goes through
    ``services.user_update_status`` (a deactivation here also revokes the refresh tokens),
    and one of the address or the names through ``services.user_update_profile`` (a new
    address is unverified, and gets a link of its own)."""

    STATUS_FIELDS = ("is_active", "is_staff")
    PROFILE_FIELDS = ("email", "first_name", "last_name")
    readonly_fields = ["email_verified"]
    fieldsets = [
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "email_verified")}),
        *(UserAdmin.fieldsets or ())[2:],  # Django's: permissions, important dates
    ]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        status, profile = (
            {
                field: getattr(obj, field)
                for field in fields
                if change and field in form.changed_data
            }
            for fields in (self.STATUS_FIELDS, self.PROFILE_FIELDS)
        )
        for field in {**status, **profile}:  # saved as they were; the services change them
            setattr(obj, field, form.initial[field])
        super().save_model(request, obj, form, change)
        if status:
            services.user_update_status(
                user=obj, is_active=status.get("is_active"), is_staff=status.get("is_staff")
            )
        if profile:
            try:
                services.user_update_profile(user=obj, data=profile)
            except InvalidInput as refusal:
                for field, problems in (refusal.details or {}).items():
                    self.message_user(request, f"{field}: {' '.join(problems)}", messages.ERROR)


class ServiceClientForm(forms.ModelForm):
    """Scopes from the known list; a new secret is hashed and never shown again.

    What may be granted is ``services.service_client_check``'s to say, as for
    ``manage.py ensure_service_client``; its refusals show on the fields below.
    """

    new_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Set or replace the secret (stored hashed). Leave empty to keep it.",
    )
    scope_choices = forms.MultipleChoiceField(
        choices=[], widget=forms.CheckboxSelectMultiple, label="Scopes"
    )

    # The service's names of the fields, and the form's.
    FORM_FIELDS = {"scopes": "scope_choices", "secret": "new_secret"}

    class Meta:
        model = ServiceClient
        fields = ["client_id", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope_field = cast(forms.MultipleChoiceField, self.fields["scope_choices"])
        scope_field.choices = [(s, s) for s in settings.SERVICE_SCOPES]
        scope_field.initial = self.instance.scope_list

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean() or {}
        try:
            services.service_client_check(
                scopes=cleaned_data.get("scope_choices", []),
                secret=cleaned_data.get("new_secret") or None,
                has_secret=bool(self.instance.secret_hash),
            )
        except InvalidInput as refused:
            for field, messages in refused.details.items():
                self.add_error(self.FORM_FIELDS.get(field), messages)
        return cleaned_data


@admin.register(ServiceClient)
class ServiceClientAdmin(admin.ModelAdmin):
    form = ServiceClientForm
    list_display = ["client_id", "scopes", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["client_id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["client_id"] if obj else []

    def save_model(self, request: HttpRequest, obj: ServiceClient, form: Any, change: bool) -> None:
        client = services.service_client_ensure(
            client_id=obj.client_id,
            scopes=form.cleaned_data["scope_choices"],
            secret=form.cleaned_data["new_secret"] or None,
            is_active=obj.is_active,
        )
        obj.pk = client.pk  # what the admin logs and redirects to
