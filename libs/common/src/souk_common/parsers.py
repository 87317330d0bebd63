"""The JSON parser of every service's API: DRF's, with a bound on how deep a body nests.

Python's ``json`` recurses once per nested array or object, so a body of
100,000 ``[`` exhausts the interpreter's stack and DRF, which expects only
``ValueError``, lets the ``RecursionError`` become a 500. No request of ours
nests more than a few levels: anything deeper than ``SOUK["JSON_MAX_DEPTH"]``
is refused as a ``validation_error`` (400) before a view sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from souk_common.conf import souk_settings


def nests_deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects in parsed JSON nest more than ``limit`` levels deep.

    Walks the document with a stack of its own, so depth costs no recursion.
    """
    pending: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than ``SOUK["JSON_MAX_DEPTH"]``."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = int(souk_settings.JSON_MAX_DEPTH)
        message = f"JSON parse error - arrays and objects nest deeper than {limit} levels."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(message) from None
        if nests_deeper_than(data, limit):
            raise ParseError(message)
        return data
