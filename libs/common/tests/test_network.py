"""A client-written X-Forwarded-For never becomes the client's identity."""

import pytest

from souk_common.network import client_address_after_hops, client_address_behind, parse_networks

GATEWAY = parse_networks(["10.0.0.0/24"])


def test_direct_client_is_the_peer_whatever_it_claims():
    meta = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}

    assert client_address_behind(meta, GATEWAY) == "203.0.113.9"


def test_behind_the_gateway_the_client_is_what_the_gateway_saw():
    meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"}

    assert client_address_behind(meta, GATEWAY) == "203.0.113.9"


def test_behind_the_gateway_without_a_header_the_peer_is_used():
    assert client_address_behind({"REMOTE_ADDR": "10.0.0.5"}, GATEWAY) == "10.0.0.5"


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "198.51.100.1"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (2, "6.6.6.6, 203.0.113.9, 192.0.2.1", "203.0.113.9"),
        (1, "", "198.51.100.1"),
    ],
)
def test_counting_trusted_hops(hops, forwarded, expected):
    meta = {"REMOTE_ADDR": "198.51.100.1", "HTTP_X_FORWARDED_FOR": forwarded}

    assert client_address_after_hops(meta, hops) == expected
