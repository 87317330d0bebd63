"""A file that a long-running loop touches each time it goes round, for a liveness probe.

A relay, a consumer or the orders reconciler has no port to ask. A probe that only sees
the process there (``grep -q relay_events /proc/1/cmdline``) passes for a loop that
hangs: on a lock, on a broker or a database that never answers. Touched by the loop
itself, never by a thread of its own (which would go on beating while the loop hangs),
the file's age says when the loop last went round, and the probe fails once it is older
than a few minutes (deploy/k8s).

``SOUK["HEARTBEAT_FILE"]`` names the file (``HEARTBEAT_FILE``; none by default, and then
nothing is written).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from souk_common.conf import souk_settings

logger = logging.getLogger(__name__)


class Heartbeat:
    """Touches ``path`` on :meth:`beat`, at most once every ``every`` seconds."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path) if path else None
        self.every = every
        self._clock = clock
        self._last = -float("inf")
        self._warned = False

    @classmethod
    def configured(cls) -> Heartbeat:
        """The heartbeat ``SOUK["HEARTBEAT_FILE"]`` names (one that writes nothing if none)."""
        return cls(str(souk_settings.HEARTBEAT_FILE) or None)

    def beat(self) -> None:
        """The loop went round: touch the file, unless it was touched less than ``every`` ago."""
        if self.path is None:
            return
        now = self._clock()
        if now - self._last < self.every:
            return
        self._last = now
        try:
            self.path.touch()
        except OSError as exc:
            if not self._warned:  # once: the probe will say the rest
                logger.warning("the heartbeat file %s could not be touched: %s", self.path, exc)
                self._warned = True
