"""The tokens of the links a user is mailed: resetting a password, verifying an e-mail address.

A link's token is one opaque string, ``<user id in urlsafe base64>.<check>``. The check is
Django's :class:`~django.contrib.auth.tokens.PasswordResetTokenGenerator`'s: a timestamp
and an HMAC (with ``SECRET_KEY``) of the account's state, so it needs no table, expires,
and dies once the state it hashes changes: a password reset's when the password changes
(or the account signs in, or changes its address), a verification's when the address is
verified or changed. Each kind of link has its own salt and lifetime.
"""

from __future__ import annotations

import binascii
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from accounts.models import User


class LinkTokens(PasswordResetTokenGenerator):
    """Django's token generator, with the lifetime of this kind of link (``timeout_setting``)."""

    timeout_setting = "PASSWORD_RESET_TIMEOUT"

    def check_token(self, user: User | None, token: str | None) -> bool:
        # Django's own check, which reads PASSWORD_RESET_TIMEOUT whatever the kind of link.
        if user is None or not token:
            return False
        try:
            timestamp = base36_to_int(token.split("-", 1)[0])
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        age = self._num_seconds(self._now()) - timestamp
        return 0 <= age <= self.lifetime().total_seconds()

    def lifetime(self) -> timedelta:
        """How long a link of this kind works."""
        return timedelta(seconds=int(getattr(settings, self.timeout_setting)))


class PasswordResetTokens(LinkTokens):
    """Hashes the password, the last sign-in and the address (Django's choice): used once."""

    key_salt = "souk.accounts.links.PasswordResetTokens"
    timeout_setting = "PASSWORD_RESET_TIMEOUT"


class EmailVerificationTokens(LinkTokens):
    """Hashes the address and whether it is verified: used once, and only for that address."""

    key_salt = "souk.accounts.links.EmailVerificationTokens"
    timeout_setting = "EMAIL_VERIFICATION_TIMEOUT"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        # Separated: account 5 at "0x@example.com" must not hash as account 50 at "x@...".
        return f"{user.pk}|{user.email}|{int(user.email_verified)}|{timestamp}"


password_reset_tokens = PasswordResetTokens()
email_verification_tokens = EmailVerificationTokens()


def link_token(tokens: LinkTokens, user: User) -> str:
    """The token of a link for ``user``, made now."""
    return f"{urlsafe_base64_encode(force_bytes(user.pk))}.{tokens.make_token(user)}"


def link_token_parts(token: str) -> tuple[int, str] | None:
    """The user id and the check of a link's token; None for one that is no such token."""
    encoded_id, _, check = token.partition(".")
    try:
        user_id = int(urlsafe_base64_decode(encoded_id).decode("ascii"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return (user_id, check) if user_id > 0 and check else None
