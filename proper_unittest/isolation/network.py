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
Unix sockets, ``localhost``, this machine's own name, IP addresses (a
lookup of one sends nothing; connecting is checked) and the hosts of the
app's configured databases, cache, queue and cable pass; anything else
raises :class:`NetworkBlockedError` naming the host and the test. A
loopback address is not "this machine" when it forwards elsewhere: a DNS
resolver (port 53) or the proxy the environment names (``HTTPS_PROXY``
and the like). Outside a test class it lets everything through. Opt in
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
    # The names resolved through getaddrinfo, by address, to name the host.
    names: dict[str, str] = {}


_guard = _Guard()
_installed = False


def enter(owner: str, *, allow_all: bool, servers: Iterable[str] = ()) -> Callable[[], None]:
    """Check connections on behalf of `owner` (a test id or class name)
    until the returned function is called, which puts back the previous owner."""
    _install()
    previous = (_guard.owner, _guard.allow_all, _guard.servers)
    _guard.owner, _guard.allow_all = owner, allow_all
    if servers:
        _guard.servers = frozenset(_resolved(servers))

    def leave() -> None:
        _guard.owner, _guard.allow_all, _guard.servers = previous

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


def _resolved(hosts: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for host in hosts:
        found.add(host)
        try:
            found.update(str(info[4][0]) for info in _getaddrinfo(host, None))
        except OSError:
            pass
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


def _check(sock: socket.socket, address: Any) -> None:
    owner = _checking()
    if owner is None:
        return
    if not isinstance(address, tuple) or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket, or an address family of this machine
    host, port = str(address[0]), address[1]
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


def _check_lookup(host: Any, call: str) -> None:
    """Refuse a lookup of `host` that could send a DNS query (see the module doc)."""
    owner = _checking()
    if owner is None or host is None:
        return
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    host = str(host)
    if _ip_address(host) is not None or _is_local(host) or _is_known_name(host):
        return
    raise NetworkBlockedError(
        f"Network access refused during {owner}: a lookup of the host name {host!r} "
        f"({call}), which is not this machine nor a server the app is configured with "
        f"(no query was sent). {HOW_TO_OPT_IN}"
    )


def _check_reverse_lookup(address: Any, call: str) -> None:
    """Refuse a reverse lookup of an address outside this machine (a DNS
    query for its name); a name given instead is looked up first."""
    owner = _checking()
    if owner is None:
        return
    host = str(address)
    if _ip_address(host) is None:
        _check_lookup(host, call)
        return
    if _is_local(host) or host in _guard.servers:
        return
    raise NetworkBlockedError(
        f"Network access refused during {owner}: a reverse lookup of {host} ({call}), "
        "which is not this machine nor a server the app is configured with (no query was "
        f"sent). {HOW_TO_OPT_IN}"
    )


def _is_known_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == socket.gethostname().lower() or name in {s.lower() for s in _guard.servers}


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
        _check(self, address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check(self, address)
        return original_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        _check(self, args[-1])
        result: int = original_sendto(self, data, *args)
        return result

    def sendmsg(self: socket.socket, buffers: Any, *args: Any) -> int:
        if len(args) >= 3 and args[2] is not None:  # (ancdata, flags, address)
            _check(self, args[2])
        return original_sendmsg(self, buffers, *args)

    def bind(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and self.family in (socket.AF_INET, socket.AF_INET6):
            _check_lookup(address[0] or None, "socket.bind")  # a name is resolved
        original_bind(self, address)

    for name, wrapper in (
        ("connect", connect), ("connect_ex", connect_ex), ("sendto", sendto),
        ("sendmsg", sendmsg), ("bind", bind),
    ):
        wrapper.__doc__ = getattr(socket.socket, name).__doc__
        setattr(socket.socket, name, wrapper)


def _guard_lookups() -> None:
    original_by_name = socket.gethostbyname
    original_by_name_ex = socket.gethostbyname_ex
    original_by_address = socket.gethostbyaddr
    original_name_info = socket.getnameinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        _check_lookup(host, "socket.getaddrinfo")
        infos = _getaddrinfo(host, *args, **kwargs)
        if _guard.owner is not None and isinstance(host, str):
            if len(_guard.names) > 1000:
                _guard.names.clear()
            for info in infos:
                _guard.names[str(info[4][0])] = host
        return infos

    def gethostbyname(host: str) -> str:
        _check_lookup(host, "socket.gethostbyname")
        return original_by_name(host)

    def gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
        _check_lookup(host, "socket.gethostbyname_ex")
        return original_by_name_ex(host)

    def gethostbyaddr(address: str) -> tuple[str, list[str], list[str]]:
        _check_reverse_lookup(address, "socket.gethostbyaddr")
        return original_by_address(address)

    def getnameinfo(sockaddr: Any, flags: int) -> tuple[str, str]:
        if isinstance(sockaddr, tuple) and sockaddr and not flags & socket.NI_NUMERICHOST:
            _check_reverse_lookup(sockaddr[0], "socket.getnameinfo")
        return original_name_info(sockaddr, flags)

    for name, wrapper in (
        ("getaddrinfo", getaddrinfo), ("gethostbyname", gethostbyname),
        ("gethostbyname_ex", gethostbyname_ex), ("gethostbyaddr", gethostbyaddr),
        ("getnameinfo", getnameinfo),
    ):
        wrapper.__doc__ = getattr(socket, name).__doc__
        setattr(socket, name, wrapper)
