"""The file descriptors opened since the runner started, which workers
forked from this process would share (forking.py).

A forked child shares each of its parent's open file descriptions with the
parent and with every other child: one socket (two workers' requests and
replies interleave on one connection to Redis or a database server), one
file offset (two workers write at one position; a file being read is read
half by each), one pipe, one epoll interest list. Workers started as new
interpreters open their own. So the runner notes what is open when it
starts (:func:`record_start`), before the app or any test module is
imported, and the descriptors it opens itself for the run (:func:`own`:
the run folder's lock, the supervisor's pipe). Any other descriptor open
when it is about to fork was opened by the app or the tests, and is named
by :func:`shared_by_fork`; forking is then refused.

One kind is exempt, its sharing being harmless: the stateless character
devices (``/dev/null``, ``/dev/zero``, ``/dev/full``, ``/dev/random``,
``/dev/urandom``), which keep no position and queue nothing. Everything else
(sockets, regular files open for reading or writing, pipes, directories,
terminals, epoll/eventfd/timerfd/inotify descriptors) is named: forking is
only a speed-up, so when in doubt the workers are new interpreters.

The descriptors are listed from ``/proc/self/fd`` (Linux) or ``/dev/fd``;
what each is comes from ``fstat`` and ``fcntl``. Where neither list
exists, forking is refused.
"""

import fcntl
import os
import socket
import stat

# Where this process's open descriptors are listed, best first.
_LISTINGS = ("/proc/self/fd", "/dev/fd")
_STATELESS_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")

# A descriptor's identity: (number, device, inode), so that a number closed
# and reused for something else counts as new.
_Identity = tuple[int, int, int]
_at_start: set[_Identity] | None = None
_owned: set[_Identity] = set()


def _listing() -> str | None:
    return next((path for path in _LISTINGS if os.path.isdir(path)), None)


def _open_descriptors() -> dict[int, os.stat_result]:
    """Every open descriptor of this process, with its ``fstat``."""
    listing = _listing()
    found: dict[int, os.stat_result] = {}
    for name in os.listdir(listing) if listing else ():
        try:
            found[int(name)] = os.fstat(int(name))
        except (ValueError, OSError):  # the listing's own descriptor, closed by now
            continue
    return found


def _identity(fd: int, info: os.stat_result) -> _Identity:
    return (fd, info.st_dev, info.st_ino)


def record_start() -> None:
    """Note the descriptors open now, as the runner starts (once per process)."""
    global _at_start
    if _at_start is None and _listing() is not None:
        _at_start = {_identity(fd, info) for fd, info in _open_descriptors().items()}


def own(fd: int) -> None:
    """Note *fd* as opened by the runner for the run, to be inherited by
    forked workers as it would be by new ones (or closed by them)."""
    _owned.add(_identity(fd, os.fstat(fd)))


def shared_by_fork() -> list[str] | None:
    """Describe each descriptor opened since :func:`record_start` that
    forked workers would share harmfully (empty: none); None when this
    platform does not list open descriptors."""
    if _at_start is None:
        return None
    stateless = {os.stat(path).st_rdev for path in _STATELESS_DEVICES if os.path.exists(path)}
    shared: list[str] = []
    for fd, info in sorted(_open_descriptors().items()):
        if _identity(fd, info) in _at_start or _identity(fd, info) in _owned:
            continue
        if stat.S_ISCHR(info.st_mode) and info.st_rdev in stateless:
            continue
        shared.append(f"fd {fd}, {describe(fd, info)}")
    return shared


def describe(fd: int, info: os.stat_result) -> str:
    """What the open descriptor *fd* is: a socket and its peer, a file's
    path and whether it is open for writing, or what the system calls it."""
    if stat.S_ISSOCK(info.st_mode):
        return _describe_socket(fd)
    name = _target(fd)
    if stat.S_ISREG(info.st_mode):
        written = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_RDONLY
        return f"the file {name} open for {'writing' if written else 'reading'}"
    if stat.S_ISFIFO(info.st_mode):
        return f"a pipe ({name})"
    if stat.S_ISDIR(info.st_mode):
        return f"the directory {name}"
    return name


def _target(fd: int) -> str:
    """The path (or ``pipe:[N]``, ``anon_inode:[eventpoll]``) the system
    shows for *fd*; its inode where it shows none."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return f"inode {os.fstat(fd).st_ino}"


def _describe_socket(fd: int) -> str:
    sock = socket.socket(fileno=os.dup(fd))  # the family and type are read from it
    try:
        kind = {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "datagram"}.get(sock.type, "")
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            kind = {"stream": "TCP", "datagram": "UDP"}.get(kind, kind)
        elif sock.family == socket.AF_UNIX:
            kind = f"Unix {kind}".strip()
        local = _address(sock.getsockname())
        try:
            return f"a {kind} socket from {local} to {_address(sock.getpeername())}"
        except OSError:  # not connected: listening, or not yet used
            return f"a {kind} socket on {local}, not connected"
    finally:
        sock.close()


def _address(address: object) -> str:
    if isinstance(address, tuple):
        host, port = str(address[0]), str(address[1])  # pyright: ignore[reportUnknownArgumentType]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(address, bytes):  # Linux's abstract Unix addresses
        address = address.decode(errors="replace")
    return repr(address) if address else "an unnamed address"
