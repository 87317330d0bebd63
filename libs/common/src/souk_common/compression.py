"""gzip for answers large enough to gain from it (docs/benchmarks.md, "gzip").

Django's :class:`~django.middleware.gzip.GZipMiddleware` does the work: it
compresses only for clients that send ``Accept-Encoding: gzip``, adds
``Vary: Accept-Encoding``, weakens a strong ``ETag`` (a conditional GET still
matches) and pads each compressed answer with up to 100 random bytes, which
defeats the length-guessing of BREACH. Here it leaves alone answers under
``SOUK["GZIP_MIN_BYTES"]`` (with their headers they fit in one packet either way,
and gzip's header and padding eat what it would save) and streamed answers
(static files: WhiteNoise serves those compressed ahead of time).

A client that accepts gzip gets a weak ``ETag`` on every answer, compressed or not,
so that a 304 (too small to compress) repeats the ``ETag`` of the compressed 200
it confirms.

Our own services' calls to each other send no ``Accept-Encoding``: on the
private network compressing costs more than it saves.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware import gzip
from django.utils.cache import patch_vary_headers

from souk_common.conf import souk_settings


class GZipMiddleware(gzip.GZipMiddleware):
    """Django's gzip, for whole answers of at least ``SOUK["GZIP_MIN_BYTES"]`` bytes."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        # Streamed answers are not HttpResponses.
        if isinstance(response, HttpResponse) and len(response.content) >= int(
            souk_settings.GZIP_MIN_BYTES
        ):
            return super().process_response(request, response)
        etag = response.get("ETag")
        accepts_gzip = gzip.re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        if etag and etag.startswith('"') and accepts_gzip:
            response.headers["ETag"] = "W/" + etag
            patch_vary_headers(response, ("Accept-Encoding",))
        return response
