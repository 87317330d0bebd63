"""The users service, as orders sees it: is this account still allowed to order?"""

from __future__ import annotations

from dataclasses import dataclass

from souk_common.clients import ServiceClient
from souk_common.errors import BadGateway, UpstreamUnavailable


@dataclass(frozen=True)
class Account:
    id: int
    is_active: bool


class UsersClient:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def account(self, user_id: int) -> Account | None:
        """The account's current state, or None if it no longer exists."""
        try:
            response = self._client.get(f"/internal/users/{user_id}/")
        except BadGateway as exc:
            raise UpstreamUnavailable(str(exc.message), retry_after=2) from exc
        if response.status == 404:
            return None
        if response.status != 200:
            raise BadGateway(f"The users service answered {response.status} unexpectedly.")
        body = response.json()
        if (
            not isinstance(body, dict)
            or body.get("id") != user_id
            or not isinstance(body.get("is_active"), bool)
        ):
            raise BadGateway("The users service answered with an account that makes no sense.")
        return Account(id=user_id, is_active=body["is_active"])
