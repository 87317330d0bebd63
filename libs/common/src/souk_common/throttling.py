"""What attempts to sign in are counted under, in every service.

The users service's sign-in throttles and every service's admin login count
attempts per username. Spellings that name the same account, or look as if
they do, must share one count: otherwise ``LIMIT``, ``limit`` in full-width letters
(U+FF4C...) and ``limit`` would each get a fresh budget for guessing one password.
"""

from __future__ import annotations

import hashlib
import unicodedata


def username_key(username: str) -> str:
    """The key a sign-in attempt with ``username`` is counted under.

    The name is stripped, NFKC-normalised (compatibility forms such as full-width
    letters become plain ones) and case-folded (beyond ASCII: the long s, U+017F, is ``s``), then
    hashed, so a name of any length makes a key every cache backend accepts.
    """
    folded = unicodedata.normalize("NFKC", username.strip()).casefold()
    return hashlib.sha256(folded.encode()).hexdigest()
