"""The client's address behind proxies: ``X-Forwarded-For`` is believed only hop by hop from trusted
proxies, as in the Java filter and the TypeScript middleware."""

from __future__ import annotations

import ipaddress
import re
from typing import Callable, Iterable, Optional, Sequence, Union

#: Which proxies may tell the client's address through ``X-Forwarded-For``:
#: ``False`` (default) none, the socket peer is the client; ``True`` every hop (only behind a proxy that
#: overwrites the header); an int n: the n hops nearest to the service (the socket peer is hop 1);
#: addresses or CIDRs (a list, or one comma-separated string; also ``loopback``, ``linklocal``,
#: ``uniquelocal``); or a function ``(address, hop) -> bool``.
TrustProxy = Union[bool, int, str, Sequence[str], Callable[[str, int], bool]]
Trust = Callable[[str, int], bool]

_NAMED = {
    "loopback": ("127.0.0.0/8", "::1/128"),
    "linklocal": ("169.254.0.0/16", "fe80::/10"),
    "uniquelocal": ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"),
}
_IPV4_WITH_PORT = re.compile(r"^\d{1,3}(\.\d{1,3}){3}:\d+$")


def compile_trust(trust: Optional[TrustProxy]) -> Trust:
    """The rule as a function of (address, hop); raises ``ValueError`` for an entry that is no address."""
    if trust is None or trust is False:
        return lambda address, hop: False
    if trust is True:
        return lambda address, hop: True
    if callable(trust):
        return trust  # type: ignore[return-value]
    if isinstance(trust, int):
        if trust < 0:
            raise ValueError("trust_proxy: a hop count must be a whole number >= 0")
        return lambda address, hop: hop <= trust  # type: ignore[operator]
    entries: Iterable[str] = trust.split(",") if isinstance(trust, str) else trust
    networks = []
    for entry in entries:
        name = entry.strip()
        for raw in _NAMED.get(name, (name,)):
            if not raw:
                continue
            try:
                networks.append(ipaddress.ip_network(raw, strict=False))
            except ValueError:
                raise ValueError(f"trust_proxy: not an address or CIDR: {raw}") from None

    def trusted(address: str, hop: int) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip.version == n.version and ip in n for n in networks)

    return trusted


def client_address(peer: Optional[str], forwarded_for: Union[str, Sequence[str], None], trust: Trust) -> Optional[str]:
    """The socket peer unless it is a trusted proxy, then the header's entries from the right, each
    believed only as long as the hop that reported it is trusted. ``None`` when the peer is no address."""
    current = normalize(peer)
    if current is None:
        return None
    if forwarded_for is None:
        joined = ""
    elif isinstance(forwarded_for, str):
        joined = forwarded_for
    else:
        joined = ",".join(forwarded_for)
    forwarded = [s.strip() for s in joined.split(",") if s.strip()]
    forwarded.reverse()
    for hop, entry in enumerate(forwarded, start=1):
        if not trust(current, hop):
            return current
        nxt = normalize(entry)
        # a malformed entry is not an address: the trusted hop that passed it on is as far as we can see
        if nxt is None:
            return current
        current = nxt
    return current


def normalize(value: Optional[str]) -> Optional[str]:
    """A bare address: IPv4-mapped IPv6 as IPv4, brackets, ports and zone ids removed; ``None`` if no IP."""
    if not value:
        return None
    a = value.strip()
    if a.startswith("["):
        end = a.find("]")
        if end < 0:
            return None
        a = a[1:end]
    elif _IPV4_WITH_PORT.match(a):
        a = a[: a.rfind(":")]
    zone = a.find("%")
    if zone >= 0:
        a = a[:zone]
    try:
        ip = ipaddress.ip_address(a)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:  # type: ignore[union-attr]
        return str(ip.ipv4_mapped)  # type: ignore[union-attr]
    return a
