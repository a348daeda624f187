"""No real network during tests: a connection to anything but this machine
and the app's configured servers is refused before anything is sent.

The guard wraps ``socket.socket.connect``, ``connect_ex`` and ``sendto``
(every Python-level client goes through them: http.client, urllib,
requests, httpx, asyncio, redis, PyMySQL), once per process, and checks
the address against the test running: loopback addresses, Unix sockets
and the hosts of the app's configured databases, cache, queue and cable
pass; anything else raises :class:`NetworkBlockedError` naming the host,
the port and the test. Outside a test class it lets everything through.
Opt in per test or class with :func:`allow_network`, per class or project
with ``allow_outside = network`` (see ``opt_ins``).
"""
import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

_Target = TypeVar("_Target")

#: The attribute :func:`allow_network` sets on a test method or class.
ALLOW_ATTRIBUTE = "__proper_unittest_allow_network__"


class NetworkBlockedError(ConnectionRefusedError):
    """A test tried to connect to a host outside this machine; nothing was
    sent. The message names the host, the port and the test."""


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


def _is_local(host: str) -> bool:
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _check(sock: socket.socket, address: Any) -> None:
    owner = _guard.owner
    if owner is None or _guard.allow_all:
        return
    if not isinstance(address, tuple) or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket, or an address family of this machine
    host, port = str(address[0]), address[1]
    if _is_local(host) or host in _guard.servers:
        return
    name = _guard.names.get(host)
    shown = f"{name} ({host})" if name and name != host else host
    raise NetworkBlockedError(
        f"Network access refused during {owner}: a connection to {shown}, port {port}, "
        "which is not this machine nor a server the app is configured with (nothing was "
        "sent). Stub the call in the test, or opt in: @allow_network on the test or its "
        "class, or `allow_outside = network` in the project's [proper_unittest] config."
    )


_getaddrinfo = socket.getaddrinfo


def _install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto

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

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        infos = _getaddrinfo(host, *args, **kwargs)
        if _guard.owner is not None and isinstance(host, str):
            if len(_guard.names) > 1000:
                _guard.names.clear()
            for info in infos:
                _guard.names[str(info[4][0])] = host
        return infos

    setattr(socket.socket, "connect", connect)
    setattr(socket.socket, "connect_ex", connect_ex)
    setattr(socket.socket, "sendto", sendto)
    setattr(socket, "getaddrinfo", getaddrinfo)
