"""No real network during tests: a connection to anything but this machine
and the app's configured servers, or a name lookup that could ask a DNS
server, is refused before anything is sent.

The guard wraps, once per process, the socket methods that send to an
address (``socket.socket.connect``, ``connect_ex``, ``sendto``,
``sendmsg``, and ``bind``, which resolves a name it is given) and the
``socket`` module's name lookups (``getaddrinfo``, ``gethostbyname``,
``gethostbyname_ex``, ``gethostbyaddr``, ``getnameinfo``). Every
Python-level client goes through them: ``socket.create_connection``,
http.client, urllib, requests, httpx, asyncio (its loop resolves names
with ``socket.getaddrinfo`` in an executor thread), redis, PyMySQL,
dnspython. Each is checked against the test running: loopback addresses,
Unix sockets and the hosts of the app's configured databases, cache,
queue and cable may be connected to; anything else raises
:class:`NetworkBlockedError` naming the host and the test. A lookup
reaches the system resolver only as an address (AI_NUMERICHOST, which
sends nothing): a host name is answered locally (``local_names``: the
hosts file for the asked family, ``localhost`` and ``*.localhost`` as
loopback, the configured servers' addresses), and so is a reverse lookup
(the hosts file only); what only a DNS server could answer is refused.
The socket methods get the looked-up address in place of a name, so their
C code asks no resolver either. A loopback address is not "this
machine" when it forwards elsewhere: a DNS resolver (port 53) or the
proxy the environment names (``HTTPS_PROXY`` and the like). Outside a test class it lets everything through. Opt in
per test or class with :func:`allow_network`, per class or project with
``allow_outside = network`` (see ``opt_ins``).

C extensions that open their own sockets (libpq, a C memcached client)
are not seen: the database connection guard (``databases.guard``) and the refusal
of server-backed caches, queues and cables (``server_services``) cover
the app's own ones.
"""
import ipaddress
import os
import socket
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from proper_unittest.isolation import local_names

_Target = TypeVar("_Target")

#: The attribute :func:`allow_network` sets on a test method or class.
ALLOW_ATTRIBUTE = "__proper_unittest_allow_network__"


class NetworkBlockedError(ConnectionRefusedError):
    """A test tried to connect to a host outside this machine, or to look
    up a host name; nothing was sent. The message names the host (and the
    port) and the test."""


def allow_network(target: _Target) -> _Target:
    """Let a test method (or every test of a class) connect to other hosts."""
    setattr(target, ALLOW_ATTRIBUTE, True)
    return target


class _Guard:
    """Who is running now (None: no test class, nothing is checked), whether
    they opted in, and which other hosts they may reach."""

    owner: str | None = None
    allow_all = False
    servers: frozenset[str] = frozenset()
    # The configured servers' names (normalized) and the addresses they had
    # when the class was entered: lookups of them are answered from here.
    server_addresses: dict[str, list[tuple[int, str]]] = {}
    # The names resolved through getaddrinfo, by address, to name the host.
    names: dict[str, str] = {}


_guard = _Guard()
_installed = False


def enter(owner: str, *, allow_all: bool, servers: Iterable[str] = ()) -> Callable[[], None]:
    """Check connections on behalf of `owner` (a test id or class name)
    until the returned function is called, which puts back the previous owner."""
    _install()
    previous = (_guard.owner, _guard.allow_all, _guard.servers, _guard.server_addresses)
    _guard.owner, _guard.allow_all = owner, allow_all
    if servers:
        addresses = _resolved(servers)
        _guard.servers = frozenset(set(addresses) | {a for found in addresses.values() for _, a in found})
        _guard.server_addresses = {local_names.normalized(name): found for name, found in addresses.items()}

    def leave() -> None:
        _guard.owner, _guard.allow_all, _guard.servers, _guard.server_addresses = previous

    return leave


def is_allowed_for(test: Any) -> bool:
    """True when the test's method or its class carries :func:`allow_network`."""
    method = getattr(test, getattr(test, "_testMethodName", ""), None)
    return bool(getattr(method, ALLOW_ATTRIBUTE, False) or getattr(type(test), ALLOW_ATTRIBUTE, False))


def app_servers(app: Any) -> set[str]:
    """The hosts of the app's configured databases, cache, queue and cable."""
    hosts: set[str] = set()
    for db in app.db.values():
        host = getattr(db, "connect_params", {}).get("host")
        if host:
            hosts.add(str(host))
    config = app.config
    for key in ("CACHE", "QUEUE", "CABLE"):
        entry = config.get(key) or {}
        if not isinstance(entry, dict):
            continue
        if entry.get("host"):
            hosts.add(str(entry["host"]))
        for value in entry.values():
            if isinstance(value, str) and "://" in value:
                host = urlsplit(value).hostname
                if host:
                    hosts.add(host)
    return hosts


def _resolved(hosts: Iterable[str]) -> dict[str, list[tuple[int, str]]]:
    """Each configured host and its addresses (family, text), resolved once
    as the class is entered."""
    found: dict[str, list[tuple[int, str]]] = {}
    for host in hosts:
        addresses = found.setdefault(host, [])
        try:
            infos = _getaddrinfo(host, None)
        except (OSError, UnicodeError):
            continue
        for info in infos:
            item = (int(info[0]), str(info[4][0]))
            if item not in addresses:
                addresses.append(item)
    return found


DNS_PORT = 53
HOW_TO_OPT_IN = (
    "Stub the call in the test, or opt in: @allow_network on the test or its class, or "
    "`allow_outside = network` in the project's [proper_unittest] config."
)
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy")


def _is_local(host: str) -> bool:
    name = host.lower().rstrip(".")
    if name in ("localhost", "") or name.endswith(".localhost"):
        return True
    address = _ip_address(host)
    return address is not None and (address.is_loopback or address.is_unspecified)


def _ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _checking() -> str | None:
    """The test or class whose network use is checked now (None: nothing is)."""
    return None if _guard.allow_all else _guard.owner


def _checked(sock: socket.socket, address: Any, call: str) -> Any:
    """`address` as the socket method `call` may pass it on, or refused: a
    host name is answered locally and replaced by its address (given on,
    the socket's C code would ask the resolver), and a connection that
    leaves this machine is refused."""
    owner = _checking()
    if owner is None or not isinstance(address, tuple) or len(address) < 2:
        return address  # not checked, or an address the socket rejects itself
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return address  # a Unix socket, or an address family of this machine
    host, port = _text(address[0]), address[1]
    if host not in _NO_LOOKUP:
        numeric = _numeric(host, sock.family)
        if numeric is None:
            entry = local_names.lookup(host, sock.family, 0, _guard.server_addresses)
            if entry is None:
                raise NetworkBlockedError(
                    f"Network access refused during {owner}: a connection to {host}, port {port} "
                    f"({call}), whose address only a DNS server could give: {_unknown_name(sock.family)} "
                    f"(nothing was sent). {HOW_TO_OPT_IN}"
                )
            numeric = entry.addresses[0][1]
            _remember(numeric, host)
            address = (numeric, *address[1:])
        host = numeric
    _check_address(owner, host, port)
    return address


def _check_address(owner: str, host: str, port: Any) -> None:
    """Refuse a connection to the address `host` unless it stays on this machine."""
    forwards = None
    if _is_local(host):
        forwards = _forwarder(host, port)
        if forwards is None:
            return
    elif host in _guard.servers:
        return
    name = _guard.names.get(host)
    shown = f"{name} ({host})" if name and name != host else host
    why = (
        f": {forwards} on this machine, which passes what it gets on to other hosts" if forwards
        else ", which is not this machine nor a server the app is configured with"
    )
    raise NetworkBlockedError(
        f"Network access refused during {owner}: a connection to {shown}, port {port}{why} "
        f"(nothing was sent). {HOW_TO_OPT_IN}"
    )


def _forwarder(host: str, port: Any) -> str | None:
    """What a loopback address and port pass on to other hosts: a DNS
    resolver, or the proxy an environment variable names; else None."""
    if port == DNS_PORT:
        return "a DNS resolver"
    for variable in _PROXY_VARIABLES:
        for spelled in (variable, variable.upper()):
            value = os.environ.get(spelled)
            if not value:
                continue
            try:
                proxy = urlsplit(value if "://" in value else "http://" + value)
                proxy_port = proxy.port or (443 if proxy.scheme == "https" else 80)
            except ValueError:
                continue
            if port == proxy_port and proxy.hostname and _same_host(proxy.hostname, host):
                return f"the proxy in {spelled}"
    return None


def _same_host(name: str, address: str) -> bool:
    if name.lower() == address.lower():
        return True
    found = _ip_address(name)
    return (found is not None and found == _ip_address(address)) or (
        _is_local(name) and _is_local(address)
    )


#: Host names CPython's socket methods take without any lookup: "" is
#: INADDR_ANY (a passive address for bind) and "<broadcast>" INADDR_BROADCAST.
_NO_LOOKUP = ("", "<broadcast>")
_FAMILY_NAMES: dict[int, str] = {socket.AF_INET: " for IPv4", socket.AF_INET6: " for IPv6"}


def _text(host: Any) -> str:
    if isinstance(host, (bytes, bytearray)):
        return bytes(host).decode("ascii", "replace")
    return str(host)


def _numeric(host: Any, family: int = socket.AF_UNSPEC) -> str | None:
    """The address `host` spells, found without any lookup (AI_NUMERICHOST),
    or None when it is a host name. An address of another family than
    `family` raises the resolver's own gaierror (nothing is sent either)."""
    try:
        infos = _getaddrinfo(host, None, socket.AF_UNSPEC, 0, 0, socket.AI_NUMERICHOST)
    except socket.gaierror:
        return None
    if family != socket.AF_UNSPEC:
        infos = _getaddrinfo(host, None, family, 0, 0, socket.AI_NUMERICHOST)
    return str(infos[0][4][0])


def _unknown_name(family: int) -> str:
    return (
        f"it is not in {local_names.HOSTS_FILE}{_FAMILY_NAMES.get(family, '')}, "
        "nor localhost, nor a server the app is configured with"
    )


def _remember(address: str, name: str) -> None:
    """Keep the name `address` was found for, to name it in a refusal."""
    if len(_guard.names) > 1000:
        _guard.names.clear()
    _guard.names[address] = name


def _forward(owner: str, host: Any, family: int, flags: int, call: str) -> local_names.HostEntry:
    """The local answer to a lookup of the host name `host`, or refused."""
    entry = local_names.lookup(_text(host), family, flags, _guard.server_addresses)
    if entry is None:
        raise NetworkBlockedError(
            f"Network access refused during {owner}: a lookup of the host name {_text(host)!r} "
            f"({call}), which only a DNS server could answer: {_unknown_name(family)} "
            f"(no query was sent). {HOW_TO_OPT_IN}"
        )
    return entry


def _reverse(owner: str, address: str, call: str) -> tuple[str, list[str]]:
    """The hosts file's name for `address`, or refused (a DNS query for its name)."""
    found = local_names.reverse(address)
    if found is None:
        raise NetworkBlockedError(
            f"Network access refused during {owner}: a reverse lookup of {address} ({call}), "
            f"which only a DNS server could answer: the address is not in {local_names.HOSTS_FILE} "
            f"(no query was sent). {HOW_TO_OPT_IN}"
        )
    return found


_getaddrinfo = socket.getaddrinfo


def _install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    _guard_socket_methods()
    _guard_lookups()


def _guard_socket_methods() -> None:
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto
    original_sendmsg = socket.socket.sendmsg
    original_bind = socket.socket.bind

    def connect(self: socket.socket, address: Any) -> None:
        original_connect(self, _checked(self, address, "socket.connect"))

    def connect_ex(self: socket.socket, address: Any) -> int:
        return original_connect_ex(self, _checked(self, address, "socket.connect_ex"))

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        if args:
            args = (*args[:-1], _checked(self, args[-1], "socket.sendto"))
        result: int = original_sendto(self, data, *args)
        return result

    def sendmsg(self: socket.socket, buffers: Any, *args: Any) -> int:
        if len(args) >= 3 and args[2] is not None:  # (ancdata, flags, address)
            args = (*args[:2], _checked(self, args[2], "socket.sendmsg"), *args[3:])
        return original_sendmsg(self, buffers, *args)

    def bind(self: socket.socket, address: Any) -> None:
        original_bind(self, _bound(self, address))

    for name, wrapper in (
        ("connect", connect), ("connect_ex", connect_ex), ("sendto", sendto),
        ("sendmsg", sendmsg), ("bind", bind),
    ):
        wrapper.__doc__ = getattr(socket.socket, name).__doc__
        setattr(socket.socket, name, wrapper)


def _bound(sock: socket.socket, address: Any) -> Any:
    """The address to bind to: a host name is answered locally and replaced
    by its address, or the lookup is refused; any local address may be bound."""
    owner = _checking()
    if owner is None or not isinstance(address, tuple) or not address:
        return address
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return address
    host = _text(address[0])
    if host in _NO_LOOKUP or _numeric(host, sock.family) is not None:
        return address
    entry = _forward(owner, host, sock.family, 0, "socket.bind")
    return (entry.addresses[0][1], *address[1:])


def _guard_lookups() -> None:
    original_by_name = socket.gethostbyname
    original_by_name_ex = socket.gethostbyname_ex
    original_by_address = socket.gethostbyaddr
    original_name_info = socket.getnameinfo

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                    flags: int = 0) -> Any:
        owner = _checking()
        if owner is None or host is None:
            infos = _getaddrinfo(host, port, family, type, proto, flags)
        elif _text(host) == "" or _numeric(host) is not None:
            infos = _getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        else:
            return _answered(owner, host, port, family, type, proto, flags)
        if _guard.owner is not None and isinstance(host, str):
            for info in infos:
                _remember(str(info[4][0]), host)
        return infos

    def gethostbyname(host: str) -> str:
        owner = _checking()
        if owner is None or host in _NO_LOOKUP:
            return original_by_name(host)
        if _numeric(host) is not None:
            return str(_getaddrinfo(host, None, socket.AF_INET, 0, 0, socket.AI_NUMERICHOST)[0][4][0])
        return _forward(owner, host, socket.AF_INET, 0, "socket.gethostbyname").addresses[0][1]

    def gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
        owner = _checking()
        if owner is None:
            return original_by_name_ex(host)
        if _numeric(host) is not None:
            address = _getaddrinfo(host, None, socket.AF_INET, 0, 0, socket.AI_NUMERICHOST)[0][4][0]
            return host, [], [str(address)]
        entry = _forward(owner, host, socket.AF_INET, 0, "socket.gethostbyname_ex")
        return entry.canonical, entry.aliases, [address for _, address in entry.addresses]

    def gethostbyaddr(address: str) -> tuple[str, list[str], list[str]]:
        owner = _checking()
        if owner is None:
            return original_by_address(address)
        call = "socket.gethostbyaddr"
        host = {"": "0.0.0.0", "<broadcast>": "255.255.255.255"}.get(address, address)
        numeric = _numeric(host)
        if numeric is None:  # a name, looked up first
            numeric = _forward(owner, host, socket.AF_UNSPEC, 0, call).addresses[0][1]
        name, aliases = _reverse(owner, numeric, call)
        return name, aliases, [numeric]

    def getnameinfo(sockaddr: Any, flags: int) -> tuple[str, str]:
        owner = _checking()
        if owner is None or flags & socket.NI_NUMERICHOST or not isinstance(sockaddr, tuple) or not sockaddr:
            return original_name_info(sockaddr, flags)
        numeric = _numeric(sockaddr[0]) if isinstance(sockaddr[0], str) else None
        if numeric is None:  # not an address: refused without a lookup (AI_NUMERICHOST)
            return original_name_info(sockaddr, flags)
        name, _ = _reverse(owner, numeric, "socket.getnameinfo")
        return name, original_name_info(sockaddr, flags | socket.NI_NUMERICHOST)[1]

    for name, wrapper in (
        ("getaddrinfo", getaddrinfo), ("gethostbyname", gethostbyname),
        ("gethostbyname_ex", gethostbyname_ex), ("gethostbyaddr", gethostbyaddr),
        ("getnameinfo", getnameinfo),
    ):
        wrapper.__doc__ = getattr(socket, name).__doc__
        setattr(socket, name, wrapper)


def _answered(owner: str, host: Any, port: Any, family: int, type: int, proto: int,
              flags: int) -> list[tuple[Any, ...]]:
    """getaddrinfo for a host name, answered locally: each of its local
    addresses is given to the resolver as an address (AI_NUMERICHOST)."""
    entry = _forward(owner, host, family, flags, "socket.getaddrinfo")
    infos: list[tuple[Any, ...]] = []
    error: socket.gaierror | None = None
    for _, address in entry.addresses:
        try:
            found = _getaddrinfo(address, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except socket.gaierror as caught:  # e.g. AI_ADDRCONFIG and no such address here
            error = caught
            continue
        infos += [(*info[:3], "", info[4]) for info in found if info not in infos]
        _remember(address, _text(host))
    if not infos and error is not None:
        raise error
    if infos and flags & socket.AI_CANONNAME:
        infos[0] = (*infos[0][:3], entry.canonical, infos[0][4])
    return infos
