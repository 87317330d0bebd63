"""Authentication in the users service: the shared JWT check, plus a live user record."""

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import AuthenticationFailed

from accounts import selectors
from accounts.services import AccountInactive
from souk_common.auth import JWTAuthentication
from souk_common.tokens import SERVICE, Principal


class UserJWTAuthentication(JWTAuthentication):
    """``request.user`` is the ``User`` row for user tokens (a deactivated one is refused),
    and a :class:`~souk_common.tokens.Principal` for service tokens."""

    def principal_for(self, claims: Mapping[str, Any]) -> Any:
        if claims["token_type"] == SERVICE:
            return Principal.from_claims(claims)
        user = selectors.user_get_active(user_id=Principal.from_claims(claims).user_id)
        if user is None:
            raise AuthenticationFailed(AccountInactive.default_message)
        return user
