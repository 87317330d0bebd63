"""Who the client is, when proxies stand in between.

``X-Forwarded-For`` is a list anyone can write to; only the entries added by
proxies we trust mean anything. Two ways to say which those are:

- :func:`client_address_behind` trusts proxies by *network* (a service behind
  the gateway: the gateway's address is known);
- :func:`client_address_after_hops` trusts a *count* of proxies in front (the
  gateway behind a load balancer whose address may change).

Either way, a client-written entry never becomes the client's identity.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``["127.0.0.1/32", "10.0.0.0/8"]`` as networks."""
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


def _forwarded_for(meta: Mapping[str, Any]) -> list[str]:
    raw = str(meta.get("HTTP_X_FORWARDED_FOR", ""))
    return [entry.strip() for entry in raw.split(",") if entry.strip()]


def _in(address: str, networks: Iterable[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address_behind(meta: Mapping[str, Any], trusted: Iterable[IPNetwork]) -> str:
    """The client's address: the nearest hop not in a trusted network.

    Walk from the connection's peer back through ``X-Forwarded-For`` while each
    hop is a trusted proxy; the first untrusted hop is the client.
    """
    networks = tuple(trusted)
    address = str(meta.get("REMOTE_ADDR", ""))
    hops = _forwarded_for(meta)
    while _in(address, networks) and hops:
        address = hops.pop()
    return address


def client_address_after_hops(meta: Mapping[str, Any], trusted_hops: int) -> str:
    """The client's address when exactly ``trusted_hops`` proxies stand in front.

    With no trusted proxy this is the connection's peer, whatever the client
    wrote in ``X-Forwarded-For``; with N, the Nth entry from the right.
    """
    if trusted_hops <= 0:
        return str(meta.get("REMOTE_ADDR", ""))
    hops = _forwarded_for(meta)
    if len(hops) < trusted_hops:
        return str(meta.get("REMOTE_ADDR", ""))
    return hops[-trusted_hops]
