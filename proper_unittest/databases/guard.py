"""The connection guard: while a Proper test class runs (from its set-up to
its last class clean-up) and while the exit hook removes what the library
made, every peewee database in the process may open a connection only to
a database this run has proven to be a test database it owns or adopted.

It wraps ``peewee.Database.connect`` once, process-wide, so every Database
object goes through it: the app's, a model's, a proxy initialized late,
``bind``/``bind_ctx`` targets, a second app's, one made inside a test. A
refused connection raises :class:`UnsafeDatabaseError` before the driver
is called; a driver that is not installed raises :class:`MissingDriverError`
(drivers.py) instead of peewee's bare error. After a connection opens, the
server (or SQLite) is asked what was really opened, and that must be what
was checked.

Proven, by :func:`prove`: the databases the library claimed (see
``provision``), matched by what they physically are (server, port and
database name; a SQLite file's real path), so another Database object on
the same test database may connect too. SQLite in-memory databases are
private to their connection and always allowed. The library's own
provisioning (creating and dropping databases from the server's
maintenance database) runs inside :func:`provisioning`.
"""
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import peewee as pw

from proper_unittest.databases import safety
from proper_unittest.databases.drivers import is_missing_driver, missing_driver_error
from proper_unittest.isolation.outlived import refuse_if_outlived
from proper_unittest.errors import UnsafeDatabaseError

# Physical keys (see physical_key) of the databases this run proved, and
# the Database objects the library claimed for them.
_proven: set[tuple[object, ...]] = set()
_claimed: dict[int, pw.Database] = {}
# How many guarded scopes (test classes, the exit hook) are open.
_armed = 0
# The keys the innermost test class may use (None: every proven one).
_limits: list[set[tuple[object, ...]] | None] = []
# What runs now, for messages: a test id, a class's set-up, the exit hook.
_running: list[str] = []
_local = threading.local()  # .provisioning: depth of provisioning() on this thread
_original_connect: Callable[..., bool] | None = None
# Every Database that has asked to connect in this process (see open_connections).
_connecting: "weakref.WeakSet[pw.Database]" = weakref.WeakSet()


def physical_key(db: pw.Database) -> tuple[object, ...]:
    """What `db` connects to: ("sqlite", real path) for a SQLite file,
    (backend, host, port, database name) for a server database."""
    if isinstance(db, pw.SqliteDatabase):
        return ("sqlite", os.path.realpath(safety.sqlite_path(db)))
    params = db.connect_params
    return (safety.backend_of(db), params.get("host"), params.get("port"), safety.target_name(db))


def prove(db: pw.Database) -> None:
    """Record that `db` is a test database this run owns or adopted."""
    if safety.is_in_memory(db):  # allowed anyway; its "path" is no file's
        return
    _proven.add(physical_key(db))
    _claimed[id(db)] = db


def is_proven(db: pw.Database) -> bool:
    """True when `db` may be connected to now: in memory, or proven and,
    inside a test class, one of the class's databases."""
    if safety.is_in_memory(db):
        return True
    key = physical_key(db)
    limit = _limits[-1] if _limits else None
    return key in _proven and (limit is None or key in limit)


def limit_to(databases: Iterable[pw.Database]) -> None:
    """Let the innermost guarded scope (a test class) connect only to
    `databases` (its own, proven). This thread's idle connections to the
    other proven databases are closed, so that a test writing to another
    app's test database has to connect, and is refused, instead of
    writing outside its transaction unnoticed."""
    allowed = {physical_key(db) for db in databases}
    _limits[-1] = allowed
    for db in list(_claimed.values()):
        if safety.is_in_memory(db) or physical_key(db) in allowed or db.is_closed():
            continue
        if not db.in_transaction():  # an enclosing class's transaction stays open
            db.close()


def install() -> None:
    """Wrap ``peewee.Database.connect`` (once per process)."""
    global _original_connect
    if _original_connect is not None:
        return
    original = pw.Database.connect
    _original_connect = original

    def open_connection(db: pw.Database, reuse_if_open: bool) -> bool:
        try:
            return original(db, reuse_if_open)
        except pw.ImproperlyConfigured as error:
            if not is_missing_driver(error):
                raise
            raise missing_driver_error(db, error) from None

    def connect(self: pw.Database, reuse_if_open: bool = False) -> bool:
        # Channel code that outlived its test: a connection of its own would
        # write outside every test's transaction.
        refuse_if_outlived("Connecting {} {!r}", type(self).__name__, self.database)
        _connecting.add(self)
        if not _armed or not self.is_closed() or self.deferred or _provisioning():
            return open_connection(self, reuse_if_open)
        if not is_proven(self):
            raise UnsafeDatabaseError(_refusal(self))
        opened = open_connection(self, reuse_if_open)
        if opened:
            _check_what_was_opened(self)
        return opened

    connect.__doc__ = original.__doc__
    cast(Any, pw.Database).connect = connect


def open_connections() -> list[str]:
    """Name the databases with a connection open on this thread (all of
    them: every connection is opened through the guard)."""
    return [f"{type(db).__name__} {db.database!r}" for db in list(_connecting) if not db.is_closed()]


@contextmanager
def guarding(what: str) -> Iterator[None]:
    """Arm the guard for a block (`what` runs in it: named in refusals)."""
    global _armed
    install()
    _armed += 1
    _running.append(what)
    _limits.append(None)
    try:
        yield
    finally:
        _armed -= 1
        _running.remove(what)
        _limits.pop()


class running:  # noqa: N801 - used as a context manager function: `with running(...)`
    """Name what runs in an armed block (a test), for refusals. A class,
    not a generator: every test enters one."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        _running.append(self.what)

    def __exit__(self, *exc_info: object) -> None:
        _running.remove(self.what)


@contextmanager
def provisioning() -> Iterator[None]:
    """Allow this thread's connections for the block: the library's own
    checking, creating and dropping of test databases (and the server's
    maintenance database it does that from)."""
    _local.provisioning = _provisioning() + 1
    try:
        yield
    finally:
        _local.provisioning -= 1


def _provisioning() -> int:
    depth: int = getattr(_local, "provisioning", 0)
    return depth


def _check_what_was_opened(db: pw.Database) -> None:
    """Ask what the new connection is really on; refuse (closing it) when
    that is not the database that was checked."""
    actual = opened_database(db)
    if actual is None:
        return
    expected = _expected(db)
    if actual == expected:
        return
    db.close()
    raise UnsafeDatabaseError(
        f"Refusing to use {type(db).__name__} {db.database!r}: it was checked as "
        f"{_show(expected)}, but the connection opened {_show(actual)}. Nothing was "
        "written. Check the connection options (a URI's parameters, a DSN, a service "
        "file, an option file) that change what is opened."
    )


def opened_database(db: pw.Database) -> str | None:
    """What `db`'s open connection is on, as the server says: the database
    name, or for SQLite the real path of the main file ("" in memory).
    None for a backend it cannot ask."""
    backend = safety.backend_of(db)
    conn: Any = cast(Any, db)._state.conn  # the driver's connection (untyped)
    cursor = conn.cursor()
    try:
        if backend == "sqlite":
            rows = cursor.execute("PRAGMA database_list").fetchall()
            path = next((row[2] for row in rows if row[1] == "main"), "") or ""
            return os.path.realpath(path) if path else ""
        query = {"postgres": "SELECT current_database()", "mysql": "SELECT DATABASE()"}.get(backend)
        if query is None:
            return None
        cursor.execute(query)
        return str(cursor.fetchone()[0])
    finally:
        cursor.close()


def _expected(db: pw.Database) -> str:
    if isinstance(db, pw.SqliteDatabase):
        return "" if safety.is_in_memory(db) else os.path.realpath(safety.sqlite_path(db))
    return safety.target_name(db)


def _show(name: str) -> str:
    return "an in-memory database" if name == "" else repr(name)


def _refusal(db: pw.Database) -> str:
    models = [
        f"{m.__module__}.{m.__qualname__}" for m in safety.all_model_classes()
        if safety.bound_database(m) is db
    ]
    bound = f" (bound to model {', '.join(models[:3])})" if models else ""
    during = _running[-1] if _running else "the test run"
    name = safety.sqlite_path(db) if isinstance(db, pw.SqliteDatabase) else safety.target_name(db)
    if physical_key(db) in _proven:
        why = ("it is a test database of this run, but not one of this test class's, so "
               "writes to it would escape the class's transaction.")
    else:
        why = ("this run has not checked that it is a test database (only the databases "
               "of the app under test and of the models bound when its class set up are).")
    return (
        f"Refusing to connect {type(db).__name__} {name!r}{bound} during {during}: "
        f"{why} Nothing was sent to it. Configure it before the test class sets up (in "
        "the app's DATABASES, or bind the model or initialize the proxy at import), "
        "pointing at a test database; the class set-up then checks it and runs the "
        "tests in its transaction."
    )
