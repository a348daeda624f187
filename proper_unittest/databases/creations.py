"""Records of the test databases this machine's runs are creating, so that
a run killed between ``CREATE DATABASE`` and its first marker (which says
"created by the library") does not leave an empty database nobody owns.

Before creating a database (or SQLite file) a run writes a record of its
intent, and once the creation succeeded, that it created it (a SQLite
file: with its device and inode). The record is removed once the marker
is written, or the database removed. A later run that finds the database
empty and unmarked, under its own run lock, takes it for its own only
when a record says a run that is gone (its process no longer exists)
created it: then it marks it and removes it at exit. A record of intent
alone proves nothing (the creation may not have happened, someone else
may have made the database), so such a database is only adopted, as any
empty one is.

The records live in ``PROPER_UNITTEST_STATE_DIR`` (default: a folder of
the user's own in the system's temporary folder), one JSON file per
database, named by a hash of what the database physically is.
"""
import hashlib
import json
import os
import signal
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

#: Where the records are kept (default: <tmp>/proper_unittest-<uid>/creating).
STATE_DIR_ENV = "PROPER_UNITTEST_STATE_DIR"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _folder(make: bool) -> Path | None:
    """The records' folder (made if `make`); None when it is missing, or
    not this user's own (another user could plant records there)."""
    configured = os.environ.get(STATE_DIR_ENV, "").strip()
    base = Path(configured) if configured else Path(tempfile.gettempdir(), f"proper_unittest-{os.getuid()}")
    folder = base / "creating"
    try:
        if make:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for part in (base, folder):
            if os.stat(part).st_uid != os.getuid():
                return None
    except OSError:
        return None
    return folder


def record_path(key: tuple[object, ...], make: bool = False) -> Path | None:
    """The record file of the database whose physical key is `key` (None
    when its folder is missing and not `make`)."""
    folder = _folder(make)
    if folder is None:
        return None
    digest = hashlib.sha256(json.dumps(list(key), default=str).encode()).hexdigest()[:32]
    return folder / f"{digest}.json"


def _write(path: Path, entry: dict[str, Any]) -> Path | None:
    """Write `entry` to `path` (whole or not at all); None when it cannot
    be written (the folder removed meanwhile, a full disk): no record."""
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        with open(partial, "w", encoding="utf-8") as file:
            file.write(json.dumps(entry))
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        return None
    return path


def intend(key: tuple[object, ...]) -> Path | None:
    """Record that this process is about to create the database `key`."""
    path = record_path(key, make=True)
    if path is None:
        return None
    return _write(path, {"key": list(key), "state": "intent", **_this_process()})


def created(path: Path | None, key: tuple[object, ...], file: tuple[int, int] | None = None) -> None:
    """Record that this process created the database `key` (a SQLite file:
    with its (device, inode))."""
    if path is not None:
        _write(path, {"key": list(key), "state": "created", "file": file, **_this_process()})


def forget(path: Path | None) -> None:
    """Remove a record (the marker or the removal now says it all)."""
    if path is None:
        return
    path.unlink(missing_ok=True)
    # No empty folders left behind (a configured one is kept).
    folders = [path.parent] + ([] if os.environ.get(STATE_DIR_ENV, "").strip() else [path.parent.parent])
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (another run's records), or gone
            break


def created_by_a_run_that_is_gone(key: tuple[object, ...], file: tuple[int, int] | None = None) -> Path | None:
    """The record saying that a run of this machine that no longer exists
    created the database `key` (a SQLite file: the very file, same device
    and inode `file`); None when there is no such record."""
    path = record_path(key)
    if path is None:
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        ours = entry["state"] == "created" and entry["key"] == json.loads(json.dumps(list(key), default=str))
        same_file = file is None or entry["file"] is not None and tuple(entry["file"]) == tuple(file)
        host, pid, started = str(entry["host"]), int(entry["pid"]), entry["started"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (ours and same_file) or host != socket.gethostname():
        return None
    return path if _started(pid) != started else None  # gone (or the pid reused since)


def _this_process() -> dict[str, object]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": _started(os.getpid())}


def _started(pid: int) -> str | None:
    """When process `pid` started (ticks since boot), None when there is no
    such process (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None if not _exists(pid) else "?"
    fields = stat.rpartition(")")[2].split()
    if not fields or fields[0] == "Z":
        return None
    return fields[19]


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM off for the block (on the main thread; they
    are delivered when it ends): creating a database and recording that it
    is the library's then happen both, or neither."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in _SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        for held in dict.fromkeys(received):
            signal.raise_signal(held)
