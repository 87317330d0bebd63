"""Sign-in, password-reset and mailed-link throttles, counted in the shared cache so every
worker sees every attempt."""

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from souk_common.network import client_address
from souk_common.throttling import username_key


class SettingsRateThrottle(SimpleRateThrottle):
    """Reads its rate from the settings when used, not when imported."""

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate else None


class LoginUsernameThrottle(SettingsRateThrottle):
    """Attempts per username, whoever makes them: slows password guessing on one account.

    Counted under the folded name, so every spelling of one account shares its budget.
    """

    scope = "login_username"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if not isinstance(username, str) or not username:
            return None
        return self.cache_format % {"scope": self.scope, "ident": username_key(username)}


class LoginAddressThrottle(SettingsRateThrottle):
    """Attempts per client address: slows one client trying many usernames."""

    scope = "login_address"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request.META)}


class ServiceTokenThrottle(SettingsRateThrottle):
    """Service-token requests per client id."""

    scope = "service_token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client_id = request.data.get("client_id") if isinstance(request.data, dict) else None
        ident = (
            client_id if isinstance(client_id, str) and client_id else client_address(request.META)
        )
        return self.cache_format % {"scope": self.scope, "ident": ident[:64]}


class PasswordResetAddressThrottle(LoginAddressThrottle):
    """Password-reset requests per client address: slows one client asking about many."""

    scope = "password_reset_address"


class PasswordResetEmailThrottle(SettingsRateThrottle):
    """Password-reset requests per e-mail address asked about, whoever asks: one inbox is
    not flooded with links. Counted for addresses with no account as well, so a 429 tells
    nothing about whether one exists."""

    scope = "password_reset_email"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email:
            return None
        return self.cache_format % {"scope": self.scope, "ident": username_key(email)}


class LinkTokenAddressThrottle(LoginAddressThrottle):
    """Uses of a mailed link's token (reset confirmed, address verified) per client address."""

    scope = "link_token_address"
