"""Sign-in attempts are counted per account, whatever the spelling."""

import time

import pytest
from django.core.cache import cache

from souk_common.throttling import FailureLimit, username_key

DOTLESS_I = "\N{LATIN SMALL LETTER DOTLESS I}"


def full_width(text):
    """``text`` in full-width letters, which NFKC turns back into ASCII."""
    return "".join(chr(ord(letter) + 0xFEE0) for letter in text)


@pytest.mark.parametrize(
    "spelling", ["LIMIT", " limit ", full_width("limit"), full_width("L") + "imit"]
)
def test_spellings_of_one_name_share_a_key(spelling):
    assert username_key(spelling) == username_key("limit")


def test_other_names_have_other_keys():
    assert username_key("limit") != username_key(f"l{DOTLESS_I}mit") != username_key("limits")


def test_a_key_is_short_whatever_the_name():
    assert len(username_key("a" * 1_000_000)) == 64


@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_failures_are_counted_per_key_until_the_window_closes(fresh_cache):
    limit = FailureLimit("test", limit=2, window_seconds=1)

    limit.record("a")
    assert not limit.reached("a")
    limit.record("a")
    assert limit.reached("a")
    assert not limit.reached("b")
    time.sleep(1.1)
    assert not limit.reached("a")
