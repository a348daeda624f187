"""The class transaction and the per-test savepoints, and what happens when
a test ends them: detection (committed, rolled back, connection lost) and
recovery (empty the library's tables, reconnect, start again).
"""
import sqlite3
from collections.abc import Iterable
from typing import Any, cast

import peewee as pw

from proper_unittest.databases.tables import created_models, empty_tables, row_counts
from proper_unittest.databases.app import library_sql, not_the_tests_sql


# psycopg2's and psycopg 3's connection.info.transaction_status values.
_PG_IDLE, _PG_UNKNOWN = 0, 4
_DRIVER_ERRORS = (pw.DatabaseError, pw.InterfaceError)

ENDED = "ended"
LOST = "lost"


class TransactionEnded(Exception):
    """Something inside a test (or its class data) committed, rolled back or
    lost the transaction the library runs it in. The message names the test,
    the database, what happened and what to do instead."""


def describe(db: pw.Database) -> str:
    """``'notes_test' (PostgresqlDatabase)``, for messages."""
    return f"{db.database!r} ({type(db).__name__})"


def transaction_problem(db: pw.Database) -> str | None:
    """LOST if `db`'s connection is closed or gone, ENDED if it is no longer
    in a transaction on the server, None if the transaction is still open.
    Free on SQLite and PostgreSQL (driver state); one query on MySQL."""
    if db.is_closed():
        return LOST
    conn = db.connection()
    if isinstance(db, pw.SqliteDatabase):
        try:
            return None if conn.in_transaction else ENDED
        except sqlite3.ProgrammingError:  # "Cannot operate on a closed database."
            return LOST
    if isinstance(db, pw.PostgresqlDatabase):
        if conn.closed:
            return LOST
        status = conn.info.transaction_status
        if status == _PG_UNKNOWN:
            return LOST
        return ENDED if status == _PG_IDLE else None
    try:
        # A SELECT: always a row, never None.
        (in_transaction,) = cast(tuple[Any, ...], library_sql(db, "SELECT @@in_transaction"))
    except _DRIVER_ERRORS:
        return LOST
    return None if in_transaction else ENDED


def is_in_transaction(db: pw.Database) -> bool:
    """True when `db`'s connection is open and inside a transaction."""
    return transaction_problem(db) is None


class ClassTransaction:
    """The transaction each database runs a test class in, rolled back when
    the class is done (a savepoint if one is already open)."""

    def __init__(self, databases: Iterable[pw.Database]) -> None:
        self.databases = list(databases)
        self._open: list[tuple[pw.Database, pw._transaction | pw._savepoint]] = []
        self._depths: dict[int, int] = {}  # peewee's transaction stack depth after begin()
        #: After :meth:`rollback`: {database: {table: rows}} that had been
        #: committed where the transaction had ended (then removed).
        self.committed: dict[pw.Database, dict[str, int]] = {}

    def begin(self) -> "ClassTransaction":
        """BEGIN on every database (connecting first where needed)."""
        for db in self.databases:
            db.connect(reuse_if_open=True)
            # A savepoint when already inside a transaction (a test class
            # run from inside another test, as the library's own tests do).
            self._open.append((db, db.atomic().__enter__()))
            self._depths[id(db)] = db.transaction_depth()
        return self

    def problems(self) -> dict[pw.Database, str]:
        """The databases whose transaction is no longer open, and why."""
        found = {}
        for db, _ in self._open:
            problem = transaction_problem(db)
            if problem:
                found[db] = problem
        return found

    def rollback(self, known: dict[pw.Database, str] | None = None) -> dict[pw.Database, str]:
        """Roll back on every database. Where the transaction was already
        gone (or is in `known`: ended, then another one begun), put the
        database back to a clean state instead; returns those databases and
        what had happened to them."""
        found = {**self.problems(), **(known or {})}
        while self._open:
            db, transaction = self._open.pop()
            if db in found:
                self.committed[db] = reset_database(db)
                continue
            _forget_stray_transactions(db, self._depths[id(db)])
            if isinstance(transaction, pw._savepoint):
                transaction.rollback()
                transaction.commit(begin=False)  # release it
            else:
                transaction.rollback(begin=False)
                db.pop_transaction()
        return found


class TestSavepoint:
    """A savepoint on each database that a test (or sub-test) is rolled back
    to at its end, after checking that the transaction around it survived.
    Its statements go straight to the driver (``library_sql``): they are
    the library's, not the test's SQL, and skip peewee's per-statement work.

    With ``keep=True`` it is the savepoint every test of a class is rolled
    back to: established once, and ``ROLLBACK TO`` leaves it established for
    the next test (every savepoint made after it is gone), so a test costs
    one statement per database. It is never released: the class
    transaction's rollback discards it. Without `keep` (sub-tests), the
    rollback releases it too.
    """

    def __init__(self, databases: Iterable[pw.Database], keep: bool = False) -> None:
        self.databases = list(databases)
        self.keep = keep
        # (database, the savepoint's quoted name, peewee's transaction depth then)
        self._open: list[tuple[pw.Database, str, int]] = []

    def check(self) -> dict[pw.Database, str]:
        """The databases whose transaction is already gone, and why: free
        on SQLite and PostgreSQL (driver state); MySQL is not checked (a
        missing savepoint is the sign there, at :meth:`rollback`)."""
        found = {}
        for db in self.databases:
            problem = None if isinstance(db, pw.MySQLDatabase) else transaction_problem(db)
            if problem:
                found[db] = problem
        return found

    def begin(self) -> dict[pw.Database, str]:
        """SAVEPOINT on every database. If a transaction around it is
        already gone (see :meth:`check`), open none and return those
        databases and why, as :meth:`rollback` does."""
        found = self.check()
        if found:
            return found
        for db in self.databases:
            name = db.savepoint().quoted_sid  # peewee's unique name, quoted for `db`
            library_sql(db, f"SAVEPOINT {name}")
            self._open.append((db, name, db.transaction_depth()))
        return {}

    def rollback(self) -> dict[pw.Database, str]:
        """Roll back to each savepoint (and release it, unless kept);
        returns the databases whose transaction had ended or whose
        connection was lost, and why (a kept savepoint is then given up:
        the class transaction starts again). PostgreSQL is checked before
        any statement, so it never sees a savepoint command outside a
        transaction."""
        found = {}
        for db, name, depth in reversed(self._open):
            _forget_stray_transactions(db, depth)
            # MySQL has no free check: there, a missing savepoint is the sign.
            problem = None if isinstance(db, pw.MySQLDatabase) else transaction_problem(db)
            if problem is None:
                try:
                    library_sql(db, f"ROLLBACK TO SAVEPOINT {name}")
                    if not self.keep:
                        library_sql(db, f"RELEASE SAVEPOINT {name}")
                except _DRIVER_ERRORS:
                    problem = transaction_problem(db) or ENDED
            if problem:
                found[db] = problem
        if found or not self.keep:
            self._open.clear()
        return found


def _forget_stray_transactions(db: pw.Database, depth: int) -> None:
    """Drop what a test left on peewee's transaction stack above `depth`
    (a ``db.transaction()`` entered and never exited); the server-side
    state is handled by the savepoint or transaction rollback."""
    while db.transaction_depth() > depth:
        db.pop_transaction()


@not_the_tests_sql
def reset_database(db: pw.Database) -> dict[str, int]:
    """Forget every open transaction of `db` (reconnecting if the connection
    was lost) and empty the tables the library created for it. Returns the
    rows that were committed there, by table (tables with rows only)."""
    while db.transaction_depth():
        db.pop_transaction()
    problem = transaction_problem(db)
    if problem == LOST:
        try:
            db.close()
        except Exception:  # noqa: BLE001 - closing a dead connection: any driver's own error
            # (peewee calls the driver's close() unwrapped: PyMySQL raises
            # its own "Already closed").
            cast(Any, db)._state.reset()  # not in types-peewee
        db.connect()
        # A new connection to in-memory SQLite is a new, empty database.
        db.create_tables(created_models(db), safe=True)
    elif problem is None:
        db.rollback()
    committed = {table: rows for table, rows in row_counts(db).items() if rows}
    empty_tables(db)
    return committed


_RECOVERED = ("The library emptied the tables it created and reopened its transactions, "
              "so later tests start clean.")


def explain(who: str, found: dict[pw.Database, str], after: str = _RECOVERED,
            committed: dict[pw.Database, dict[str, int]] | None = None) -> str:
    """The error message for `who` (a test id or a class hook) having ended
    or lost the transaction on the databases in `found`; `committed` is
    what :attr:`ClassTransaction.committed` found there."""
    lines = []
    committed = committed or {}
    for db, problem in found.items():
        if problem == LOST:
            lines.append(
                f"{who} lost its connection to database {describe(db)}: the connection "
                "was closed (db.close(), conn.close()) or the server ended it (restart, "
                "timeout, pg_terminate_backend(), KILL). Its uncommitted writes are gone. "
                "Do not close the database inside a test (the library keeps the "
                "connection open); if the server drops connections, check its logs and "
                "timeouts."
            )
        else:
            implicit = ""
            if isinstance(db, pw.MySQLDatabase):
                implicit = (", or a statement MySQL/MariaDB commits implicitly: CREATE/ALTER/"
                            "DROP/TRUNCATE/RENAME TABLE, LOCK TABLES, ...")
            lines.append(
                f"{who} ended the transaction the library runs it in, on database "
                f"{describe(db)}: something committed or rolled back (db.commit(), "
                f"db.rollback(), a transaction's commit(), manual_commit{implicit}), so its "
                "writes escaped the rollback. If the code under test must commit, "
                "make the class a ProperTransactionTestCase; otherwise use db.atomic() "
                "blocks, which become savepoints inside a test."
            )
        rows = committed.get(db)
        if rows:
            listed = ", ".join(f"{table!r}: {count}" for table, count in rows.items())
            lines.append(f"Rows that had been committed (the class data included): {listed}.")
        elif problem != LOST:
            lines.append("No rows had been committed: it rolled back (or committed nothing).")
    lines.append(after)
    return "\n".join(lines)
