"""Authentication in the users service: the shared JWT check, plus a live user record."""

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import AuthenticationFailed

from accounts.models import User
from souk_common.auth import JWTAuthentication
from souk_common.tokens import SERVICE, Principal


class UserJWTAuthentication(JWTAuthentication):
    """``request.user`` is the ``User`` row for user tokens (a deactivated one is refused),
    and a :class:`~souk_common.tokens.Principal` for service tokens."""

    def principal_for(self, claims: Mapping[str, Any]) -> Any:
        if claims["token_type"] == SERVICE:
            return Principal.from_claims(claims)
        user_id = Principal.from_claims(claims).user_id
        user = User.objects.filter(pk=user_id or 0, is_active=True).first()
        if user is None:
            raise AuthenticationFailed("The account is inactive or does not exist.")
        return user
