"""A client-written X-Forwarded-For never becomes the client's identity."""

import pytest

from souk_common.network import PROXY_SECRET_HEADER, client_address, client_address_after_hops

SECRET = "a-secret-only-the-gateway-and-the-services-hold"


def request_meta(peer, forwarded=None, secret=None):
    meta = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    if secret is not None:
        meta["HTTP_" + PROXY_SECRET_HEADER.upper().replace("-", "_")] = secret
    return meta


def test_a_direct_client_is_the_peer_whatever_it_claims():
    meta = request_meta("203.0.113.9", "1.2.3.4")

    assert client_address(meta, proxy_secret=SECRET) == "203.0.113.9"


@pytest.mark.parametrize(
    "header", ["HTTP_X_REAL_IP", "HTTP_FORWARDED", "HTTP_CF_CONNECTING_IP", "HTTP_TRUE_CLIENT_IP"]
)
def test_other_headers_naming_a_client_are_not_believed_even_from_the_gateway(header):
    # django-ipware's defaults believe each of these, from anyone.
    meta = {**request_meta("10.0.0.5", secret=SECRET), header: "1.2.3.4"}

    assert client_address(meta, proxy_secret=SECRET) == "10.0.0.5"
    assert client_address_after_hops(meta, 1) == "10.0.0.5"


def test_a_local_process_without_the_secret_is_the_peer_too():
    # Before: any process on 127.0.0.1 was a trusted proxy and could name any client.
    meta = request_meta("127.0.0.1", "198.51.100.7")

    assert client_address(meta, proxy_secret=SECRET) == "127.0.0.1"


@pytest.mark.parametrize("sent", ["", "wrong", SECRET[:-1], SECRET + "x", "é" + SECRET])
def test_a_wrong_secret_is_not_the_gateway(sent):
    meta = request_meta("127.0.0.1", "198.51.100.7", sent)

    assert client_address(meta, proxy_secret=SECRET) == "127.0.0.1"


def test_from_the_gateway_the_client_is_what_the_gateway_saw():
    meta = request_meta("10.0.0.5", "198.51.100.7", SECRET)

    assert client_address(meta, proxy_secret=SECRET) == "198.51.100.7"


def test_the_gateways_entry_is_the_last_one():
    meta = request_meta("10.0.0.5", "6.6.6.6, 2001:DB8::1", SECRET)

    assert client_address(meta, proxy_secret=SECRET) == "2001:db8::1"


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "1.2.3.4.5"])
def test_from_the_gateway_without_a_usable_address_the_peer_is_used(forwarded):
    meta = request_meta("10.0.0.5", forwarded, SECRET)

    assert client_address(meta, proxy_secret=SECRET) == "10.0.0.5"


def test_with_no_secret_configured_nothing_is_believed():
    meta = request_meta("10.0.0.5", "198.51.100.7", "")

    assert client_address(meta, proxy_secret="") == "10.0.0.5"


def test_the_secret_comes_from_the_souk_settings(settings):
    meta = request_meta("10.0.0.5", "198.51.100.7", SECRET)
    assert client_address(meta) == "10.0.0.5"

    settings.SOUK = {**settings.SOUK, "PROXY_SECRET": SECRET}

    assert client_address(meta) == "198.51.100.7"


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
