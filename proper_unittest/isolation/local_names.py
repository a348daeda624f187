"""Host name and address lookups answered from what this machine says,
without asking a DNS server: the network guard's resolver during tests.

A name is answered from the hosts file (``/etc/hosts``, read again when
its modification time or size changes) for the asked address family, from
RFC 6761's ``localhost`` and ``*.localhost`` (loopback, when the hosts file
does not name them for that family), or from the addresses the guard
resolved for the app's configured servers. An address is answered, in
reverse, from the hosts file only. Anything else has no local answer
(None): asking the system resolver could send a query out.
"""
import ipaddress
import os
import socket
import threading
from collections.abc import Mapping, Sequence
from typing import NamedTuple

#: The hosts file the lookups are answered from.
HOSTS_FILE = "/etc/hosts"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: An answer's addresses: (address family, address as text), in order.
Found = list[tuple[int, str]]

_LOOPBACK: dict[int, str] = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}


class HostEntry(NamedTuple):
    """A name's local answer: its canonical name, its aliases and its
    addresses (family, text), as the hosts file gives them."""

    canonical: str
    aliases: list[str]
    addresses: Found


class _Line(NamedTuple):
    address: Address
    text: str
    names: tuple[str, ...]


_cache: tuple[tuple[str, int, int] | None, tuple[_Line, ...]] = (None, ())
_lock = threading.Lock()


def normalized(name: str | bytes) -> str:
    """A host name as the resolver compares it: IDNA-encoded (as
    ``socket.getaddrinfo`` sends it), lower case, no trailing dot."""
    if isinstance(name, (bytes, bytearray)):
        text = bytes(name).decode("ascii", "replace")
    else:
        text = name if name.isascii() else name.encode("idna").decode("ascii")
    return text.strip().rstrip(".").lower()


def parse_address(text: str) -> Address | None:
    """`text` as an IP address (an IPv6 zone is dropped), or None."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _lines() -> tuple[_Line, ...]:
    """The hosts file's lines, read again when it changes (none if unreadable)."""
    global _cache
    path = HOSTS_FILE
    try:
        stat = os.stat(path)
        key: tuple[str, int, int] | None = (path, stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = None
    cached_key, lines = _cache
    if key == cached_key and cached_key is not None:
        return lines
    with _lock:
        parsed: list[_Line] = []
        if key is not None:
            try:
                with open(path, encoding="utf-8", errors="replace") as file:
                    content = file.read()
            except OSError:
                content = ""
            for raw in content.splitlines():
                fields = raw.split("#", 1)[0].split()
                if len(fields) < 2:
                    continue
                address = parse_address(fields[0])
                if address is None:
                    continue
                parsed.append(_Line(address, str(address), tuple(f.rstrip(".").lower() for f in fields[1:])))
        _cache = (key, tuple(parsed))
        return _cache[1]


def _family_of(address: Address) -> int:
    return socket.AF_INET if address.version == 4 else socket.AF_INET6


def _wanted(family: int, flags: int, found: Found) -> Found:
    """The addresses of `found` that a lookup for `family` returns (IPv4
    ones for AF_INET6 only with AI_V4MAPPED, as the resolver maps them)."""
    if family == socket.AF_UNSPEC:
        return found
    own = [item for item in found if item[0] == family]
    if family == socket.AF_INET6 and flags & socket.AI_V4MAPPED and (flags & socket.AI_ALL or not own):
        own += [item for item in found if item[0] == socket.AF_INET]
    return own


def is_localhost(name: str) -> bool:
    """``localhost`` or a name under it (RFC 6761: always loopback)."""
    return name == "localhost" or name.endswith(".localhost")


def lookup(name: str, family: int, flags: int = 0,
           servers: Mapping[str, Sequence[tuple[int, str]]] | None = None) -> HostEntry | None:
    """The local answer to a forward lookup of `name` (see the module doc)
    for `family` (AF_UNSPEC, AF_INET or AF_INET6), or None when only a DNS
    server could answer."""
    name = normalized(name)
    if not name or family not in (socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6):
        return None
    canonical = ""
    aliases: list[str] = []
    found: Found = []
    for line in _lines():
        if name in line.names:
            canonical = canonical or line.names[0]
            aliases += [n for n in line.names if n != canonical and n not in aliases]
            item = (_family_of(line.address), line.text)
            if item not in found:
                found.append(item)
    addresses = _wanted(family, flags, found)
    if addresses:
        return HostEntry(canonical, aliases, addresses)
    if is_localhost(name):
        families = [family] if family else [socket.AF_INET, socket.AF_INET6]
        return HostEntry(name, [], [(f, _LOOPBACK[f]) for f in families])
    known = _wanted(family, flags, list((servers or {}).get(name, ())))
    if known:
        return HostEntry(name, [], known)
    return None


def reverse(address: str) -> tuple[str, list[str]] | None:
    """The name and aliases the hosts file gives `address` (its first line
    with it), or None when only a DNS server could answer."""
    wanted = parse_address(address)
    if wanted is None:
        return None
    for line in _lines():
        if line.address == wanted:
            return line.names[0], list(line.names[1:])
    return None
