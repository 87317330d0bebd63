"""Who the client is, when proxies stand in between.

``X-Forwarded-For`` is a list anyone can write to; only the entries added by
proxies we trust mean anything. Two places need to know which those are:

- a service behind the gateway believes it only from the gateway itself, which
  proves who it is with a shared secret (:func:`client_address`). Trusting the
  gateway's *address* instead would trust every process on its host too;
- the gateway, behind a load balancer whose address may change, trusts a
  *count* of proxies in front (:func:`client_address_after_hops`).

Either way, a client-written entry never becomes the client's identity.

Not django-ipware: it trusts proxies by the addresses in ``X-Forwarded-For``, never
by a secret, and by default believes ``X-Real-IP``, ``CF-Connecting-IP`` and some
thirty other headers any client can send; set up to count hops as the gateway does,
it gives the gateway's answers at about thirty times the cost per call (docs/decisions.md).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from typing import Any

from souk_common.conf import souk_settings

#: The header in which the gateway proves to a service that a request comes from it.
PROXY_SECRET_HEADER = "X-Souk-Proxy-Secret"  # noqa: S105 - a header name, not a secret
_PROXY_SECRET_META = "HTTP_" + PROXY_SECRET_HEADER.upper().replace("-", "_")


def _forwarded_for(meta: Mapping[str, Any]) -> list[str]:
    raw = str(meta.get("HTTP_X_FORWARDED_FOR", ""))
    return [entry.strip() for entry in raw.split(",") if entry.strip()]


def from_gateway(meta: Mapping[str, Any], proxy_secret: str) -> bool:
    """Whether a request carries ``proxy_secret`` in ``X-Souk-Proxy-Secret``.

    Compared in constant time. An empty secret matches nothing.
    """
    sent = str(meta.get(_PROXY_SECRET_META, ""))
    if not proxy_secret or not sent:
        return False
    return hmac.compare_digest(sent.encode(), proxy_secret.encode())


def client_address(meta: Mapping[str, Any], *, proxy_secret: str | None = None) -> str:
    """The address of the client behind a request (``request.META``), for a service.

    ``X-Forwarded-For`` is believed only on a request that carries the gateway's
    secret (``SOUK["PROXY_SECRET"]`` unless ``proxy_secret`` is given) in
    ``X-Souk-Proxy-Secret``: the gateway sets it to exactly the client's address, and
    drops every ``X-Souk-*`` header a client sends. Any other request -- a client's,
    or one from any process on the gateway's host -- comes from its connection's
    peer, whatever it says. With no secret configured no ``X-Forwarded-For`` is
    believed at all.
    """
    peer = str(meta.get("REMOTE_ADDR", ""))
    secret = str(souk_settings.PROXY_SECRET) if proxy_secret is None else proxy_secret
    hops = _forwarded_for(meta)
    if not hops or not from_gateway(meta, secret):
        return peer
    try:
        return str(ipaddress.ip_address(hops[-1]))
    except ValueError:
        return peer


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
