"""The guard on connections that test code opens through a database driver
itself (``psycopg2.connect(...)``, ``pymysql.connect(...)``), not through
peewee: while a test class runs, each new connection is asked which
database it is on, and one that is not a test database this run proved
is closed and refused (:class:`UnsafeDatabaseError`) before it is handed
back. Peewee's own connections are checked by guard.py, once, and pass
here unasked; so do the library's own (``guard.provisioning``).
"""
import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from proper_unittest.errors import UnsafeDatabaseError

_local = threading.local()  # .depth: peewee connects in progress on this thread
_installed: set[str] = set()


@contextmanager
def peewee_connecting() -> Iterator[None]:
    """A connection peewee opens in the block: guard.py checks it."""
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1


def install(should_check: Callable[[], bool], proven_names: Callable[[str], set[str]],
            running: Callable[[], str]) -> None:
    """Wrap the ``connect`` of each installed driver (once per process):
    `should_check()` says whether the guard is armed for this thread,
    `proven_names(backend)` the test databases proven on that backend,
    `running()` what runs now, for the message."""
    for module_name, backend, ask in (("psycopg2", "postgres", _postgres_database),
                                      ("pymysql", "mysql", _mysql_database)):
        if module_name in _installed:
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        _installed.add(module_name)
        driver: Any = module  # untyped drivers
        driver.connect = _guarded(driver.connect, f"{module_name}.connect()", backend, ask, should_check,
                                  proven_names, running)


def _guarded(original: Callable[..., Any], call: str, backend: str, ask: Callable[[Any], str],
             should_check: Callable[[], bool], proven_names: Callable[[str], set[str]],
             running: Callable[[], str]) -> Callable[..., Any]:
    def connect(*args: Any, **kwargs: Any) -> Any:
        connection = original(*args, **kwargs)
        if getattr(_local, "depth", 0) or not should_check():
            return connection
        try:
            name = ask(connection)
        except Exception:
            connection.close()
            raise
        if name in proven_names(backend):
            return connection
        connection.close()
        raise UnsafeDatabaseError(
            f"Refusing a connection opened with {call} during {running()}: "
            f"it is on database {name!r}, which is not a test database of this run. It was closed "
            "before the test could send anything through it. Use the "
            "app's models (or a raw connection to the test database: db.connection())."
        )

    connect.__doc__ = original.__doc__
    connect.__wrapped__ = original  # type: ignore[attr-defined]
    return connect


def _postgres_database(connection: Any) -> str:
    # libpq's own answer (PQdb): the database the server accepted, no query.
    return str(connection.info.dbname)


def _mysql_database(connection: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DATABASE()")
        row = cursor.fetchone()
    connection.rollback()  # the question opens no snapshot the test would read from
    return str(row[0]) if row and row[0] is not None else ""
