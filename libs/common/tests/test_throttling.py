"""Sign-in attempts are counted per account, whatever the spelling."""

import pytest

from souk_common.throttling import username_key

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
