"""The users service, as notifications sees it: where to write to an account, now.

Events carry no e-mail address: personal data stays with the users service, and a
mail goes to the address the account has when it is sent, not the one it had when
the event was published.
"""

from __future__ import annotations

from dataclasses import dataclass

from souk_common.clients import ServiceClient
from souk_common.errors import BadGateway


@dataclass(frozen=True)
class Recipient:
    """An account as a mail addresses it; ``email`` is empty when the account has none."""

    user_id: int
    username: str
    email: str


class UsersClient:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    def recipient(self, user_id: int) -> Recipient | None:
        """The account's current name and address (``GET /internal/users/{id}/contact/``,
        scope ``users:contact``), or None if it no longer exists.

        A users service that cannot be reached, fails or answers nonsense raises
        (:class:`~souk_common.errors.UpstreamError`): the event is tried again later.
        """
        response = self._client.get(f"/internal/users/{user_id}/contact/")
        if response.status == 404:
            return None
        if response.status != 200:
            raise BadGateway(f"The users service answered {response.status} unexpectedly.")
        body = response.json()
        if (
            not isinstance(body, dict)
            or body.get("id") != user_id
            or not isinstance(body.get("username"), str)
            or not isinstance(body.get("email"), str)
        ):
            raise BadGateway("The users service answered with an account that makes no sense.")
        return Recipient(user_id=user_id, username=body["username"], email=body["email"])
