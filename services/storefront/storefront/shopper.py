"""Who is shopping, as the session cookie remembers them, and the headers that name them
to the API.

A guest is their cart: the id the cart service gave it (``X-Cart-ID``), kept in the
session so that the cart is there on the next visit. A signed-in shopper is their
tokens: the access token goes with every call (``Authorization``) and is renewed with
the refresh token shortly before it expires, or when the API refuses it. Both live only
in the session, a signed HttpOnly cookie: no page and no script ever sees them.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.sessions.backends.base import SessionBase

from storefront.clients.gateway import ApiError, Tokens, gateway

T = TypeVar("T")
ACCOUNT = "account"
CART_ID = "cart_id"
CART_COUNT = "cart_count"
# An access token this close to its expiry is renewed before the call, not after a 401.
RENEW_BEFORE_SECONDS = 60


class SessionEnded(Exception):
    """The API no longer accepts the shopper's refresh token: they are signed out."""


def token_expiry(token: str) -> float:
    """When a JWT expires (its ``exp``), read without checking the signature: the API
    checks it; the storefront only decides when to renew. 0 when unreadable."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError, binascii.Error):
        return 0.0


class Shopper:
    """The shopper of one request, over its session."""

    def __init__(self, session: SessionBase) -> None:
        self.session = session

    @property
    def _account(self) -> dict[str, Any]:
        account = self.session.get(ACCOUNT)
        return account if isinstance(account, dict) else {}

    @property
    def signed_in(self) -> bool:
        return bool(self._account.get("access"))

    @property
    def username(self) -> str:
        return str(self._account.get("username", ""))

    @property
    def guest_cart_id(self) -> str | None:
        cart_id = self.session.get(CART_ID)
        return str(cart_id) if cart_id else None

    @property
    def cart_count(self) -> int:
        return int(self.session.get(CART_COUNT) or 0)

    # Changes

    def sign_in(self, username: str, tokens: Tokens) -> None:
        """Remember the account; a new session key, as after any sign-in."""
        self.session.cycle_key()
        self.session[ACCOUNT] = {
            "username": username,
            "access": tokens.access,
            "refresh": tokens.refresh,
        }

    def sign_out(self) -> None:
        """Forget everything: the account, and any guest cart with it."""
        self.session.flush()

    def remember_cart(self, cart_id: str) -> None:
        self.session[CART_ID] = cart_id

    def forget_cart(self) -> None:
        self.session.pop(CART_ID, None)

    def count_items(self, count: int) -> None:
        """What the header shows next to the cart."""
        self.session[CART_COUNT] = count

    @property
    def refresh_token(self) -> str | None:
        return self._account.get("refresh")

    # Calls

    def headers(self) -> dict[str, str]:
        """What names the shopper to the API: their token, else their guest cart."""
        if self.signed_in:
            if token_expiry(self._account["access"]) - time.time() < RENEW_BEFORE_SECONDS:
                self.renew(access_refused=False)
            return {"Authorization": f"Bearer {self._account['access']}"}
        if self.guest_cart_id:
            return {"X-Cart-ID": self.guest_cart_id}
        return {}

    def renew(self, *, access_refused: bool) -> None:
        """New tokens for the refresh token (rotated: the old one stops working).

        A refresh token the API refuses ends the session, unless the access token still
        works: two requests of one browser renewing at once (a page polling, a click)
        send the same refresh token, and the one that loses carries on with its access
        token while the winner's new cookie replaces its own.
        """
        try:
            tokens = gateway().refresh(self._account["refresh"])
        except ApiError as error:
            if error.code not in ("not_authenticated", "validation_error"):
                raise
            still_valid = token_expiry(self._account["access"]) > time.time() + 5
            if still_valid and not access_refused:
                return
            self.sign_out()
            raise SessionEnded from error
        self.session[ACCOUNT] = {
            **self._account,
            "access": tokens.access,
            "refresh": tokens.refresh,
        }

    def call(self, call: Callable[[dict[str, str]], T]) -> T:
        """``call(headers)`` as this shopper; once more with renewed tokens if the API
        refused the access token (revoked keys, a clock ahead of ours)."""
        try:
            return call(self.headers())
        except ApiError as error:
            if error.status != 401 or not self.signed_in:
                raise
        self.renew(access_refused=True)
        return call(self.headers())
