"""DRF authentication with the tokens of :mod:`souk_common.tokens`: ``request.user`` is the
caller's :class:`~souk_common.tokens.Principal`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from souk_common.tokens import InvalidToken, Principal, get_verifier


class JWTAuthentication(BaseAuthentication):
    """DRF authentication: ``Authorization: Bearer <access or service token>``.

    No header: anonymous (permissions decide). A header that is not a valid
    token: 401 ``not_authenticated`` with ``WWW-Authenticate``.
    """

    realm = "souk"

    def authenticate(self, request: Request) -> tuple[Any, str] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise AuthenticationFailed("Use 'Authorization: Bearer <token>'.")
        try:
            claims = get_verifier().verify(token)
            return self.principal_for(claims), token
        except InvalidToken as exc:
            raise AuthenticationFailed(f"Invalid token: {exc}.") from None

    def principal_for(self, claims: Mapping[str, Any]) -> Any:
        """The ``request.user`` for verified claims; services may load their own user."""
        return Principal.from_claims(claims)

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{self.realm}"'


def request_principal(request: Request) -> Principal:
    """The verified caller of a view whose permissions required one."""
    user = request.user
    if not isinstance(user, Principal):
        raise AuthenticationFailed("This needs a bearer token.")
    return user
