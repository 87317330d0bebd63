"""Typed clients for the services notifications calls."""

from __future__ import annotations

from notifications.clients.users import UsersClient
from souk_common import accounts


def users() -> UsersClient:
    """The users service, through this process's pooled client with the service's own
    token (souk_common.accounts), which every caller of the users service shares."""
    return UsersClient(accounts.users_client())
