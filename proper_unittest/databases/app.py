"""The app's test databases and the transactions and savepoints that keep
every test's writes away from the next. (Creating and removing them is
``provision``'s job.)
"""
import functools
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar, cast

import peewee as pw

from proper_unittest.isolation.outlived import running_job
from proper_unittest.databases.request_savepoint import PendingSavepoint, can_defer
from proper_unittest.databases.safety import all_model_classes, bound_database

# psycopg2's and psycopg 3's TRANSACTION_STATUS_INERROR: the transaction is
# aborted and refuses every statement until it is rolled back.
_PG_IN_ERROR = 3
# The statuses inside a transaction: INTRANS (it can go on) and INERROR.
_PG_IN_TRANSACTION_STATES = (2, _PG_IN_ERROR)
# The savepoint a request runs under on PostgreSQL (see recover_aborted_transactions).
_REQUEST_SAVEPOINT = "proper_unittest_request"

#: True while the library runs its own statements through peewee (emptying
#: tables, counting rows, reconnecting): the test's SQL log skips them.
library_work: ContextVar[bool] = ContextVar("proper_unittest_library_work", default=False)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def not_the_tests_sql(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator: the SQL `func` runs is the library's, not the test's, so
    the flight recorder does not list it."""
    @functools.wraps(func)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        token = library_work.set(True)
        try:
            return func(*args, **kwargs)
        finally:
            library_work.reset(token)
    return run


def app_databases(app: Any) -> dict[str, pw.Database]:
    """The peewee databases the app is configured with (``app.db``)."""
    return {
        name: db for name, db in app.db.items() if isinstance(db, pw.Database)
    }


def models_of(db: pw.Database) -> list[type[pw.Model]]:
    """Every concrete model bound to `db`, direct or indirect subclasses.

    A model class that other models bound to `db` inherit from is taken for
    a base class or a concern (no table of its own) unless it names its own
    table in its ``Meta``.
    """
    bound = [model for model in all_model_classes() if bound_database(model) is db]
    bound_set = set(bound)
    concrete = []
    for model in bound:
        has_children = any(sub in bound_set for sub in model.__subclasses__())
        declares_table = "table_name" in vars(model.__dict__.get("Meta", object))
        if not has_children or declares_table:
            concrete.append(model)
    return concrete


class recover_aborted_transactions:  # noqa: N801 - used as a context manager function
    """Run a block with a savepoint on each PostgreSQL database that is in a
    transaction, and roll back to it if the block left the transaction
    aborted (after an IntegrityError, say), so the test can go on querying,
    as it could on SQLite or MySQL.

    No round trip of its own when nothing fails: through psycopg2 the
    savepoint goes with the block's first statement (``request_savepoint``;
    a block that runs none sends none), through another driver it is sent
    at the start. It is never released, as the test's own rollback
    discards it with everything else (a later ``SAVEPOINT`` of the same
    name shadows it, so a ``ROLLBACK TO`` always goes back to the latest).
    Outside a transaction there is nothing to recover, so no savepoint.
    (A class, not a generator: every request on PostgreSQL enters one.)
    """

    def __init__(self, databases: Iterable[pw.Database]) -> None:
        self.databases = databases
        self._guarded: list[tuple[pw.Database, PendingSavepoint | None]] = []

    def __enter__(self) -> None:
        for db in self.databases:
            if not isinstance(db, pw.PostgresqlDatabase):
                continue
            connection = _pg_connection(db)
            if connection is None or connection.info.transaction_status not in _PG_IN_TRANSACTION_STATES:
                continue  # outside a transaction: nothing to recover
            if can_defer(connection):
                self._guarded.append((db, PendingSavepoint(connection, _REQUEST_SAVEPOINT)))
            else:
                library_sql(db, f"SAVEPOINT {_REQUEST_SAVEPOINT}")
                self._guarded.append((db, None))

    def __exit__(self, *exc_info: object) -> None:
        guarded, self._guarded = self._guarded, []
        sent = [pending is None or pending.finish() for _, pending in guarded]
        job = running_job.get()
        if job is not None and job.outlived:
            # Channel code that outlived its test: the connection is
            # another test's now, and its transaction none of this block's.
            return
        for (db, _), has_savepoint in zip(guarded, sent):
            if not has_savepoint:
                continue  # nothing ran
            # Aborted (so still in the transaction). Committed, or the
            # connection lost: nothing to do here, the test's end reports it.
            connection = _pg_connection(db)
            if connection is not None and connection.info.transaction_status == _PG_IN_ERROR:
                library_sql(db, f"ROLLBACK TO SAVEPOINT {_REQUEST_SAVEPOINT}")


def library_sql(db: pw.Database, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    """Run one of the library's own statements on `db`'s connection and
    return its first row: through the driver's cursor, so it is not the
    test's SQL (peewee does not log it, so nothing counts or records it).
    Driver errors come out as peewee's, as from ``execute_sql``."""
    with cast(Any, pw).__exception_wrapper__:  # not in types-peewee
        cursor = db.cursor()
        cursor.execute(sql, params or ())
        row: tuple[Any, ...] | None = cursor.fetchone() if cursor.description else None
        return row


def _pg_connection(db: pw.Database) -> Any:
    """`db`'s open driver connection (psycopg2 or psycopg 3), or None."""
    if db.is_closed():
        return None
    connection: Any = cast(Any, db).connection()  # untyped in types-peewee
    return None if connection.closed else connection
