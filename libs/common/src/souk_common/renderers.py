"""The browsable API: DRF's pages for people with a browser, JSON for everyone else.

JSON comes first in ``DEFAULT_RENDERER_CLASSES`` (souk_common.settings), so an API
client (no ``Accept``, ``*/*``, ``application/json``) always gets JSON; a browser,
which asks for ``text/html``, or ``?format=api``, gets the same answer as a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API, setting no cookie.

    The API authenticates by bearer token only, never by session, so it needs no
    CSRF token: the page leaves it out rather than set a ``csrftoken`` cookie on an
    API answer.
    """

    def get_context(
        self, data: Any, accepted_media_type: str | None, renderer_context: Mapping[str, Any]
    ) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(data, accepted_media_type, renderer_context)
        context["csrf_token"] = ""
        return context
