"""The client's address, for rate limits and logs: the TCP peer, or ``X-Forwarded-For`` when (and only
when) the peer is one of ``TRUSTED_PROXIES``.

Behind a proxy every request comes from the proxy's address, so without this every citizen would share
one bucket; believing the header from anyone else would let a client pick a fresh bucket per request.
The chain is read from the right: the first address not itself a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fastapi import Request

from core.setting_types import Network


def _trusted(host: str, networks: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(host.strip())
    except ValueError:
        return False
    return any(address in n for n in networks)


class ClientAddress:
    def __init__(self, trusted_proxies: Sequence[Network]) -> None:
        self.networks = tuple(trusted_proxies)  # TRUSTED_PROXIES, parsed when the settings load

    def __call__(self, request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        if not self.networks or not _trusted(peer, self.networks):
            return peer
        chain = [
            h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()
        ]
        for host in reversed(chain):
            if not _trusted(host, self.networks):
                return host[:64]
        return chain[0][:64] if chain else peer


def client_address(request: Request) -> str:
    """The client address of ``request`` as the app's settings say (``app.state.client_address``)."""
    return request.app.state.client_address(request)  # type: ignore[no-any-return]
