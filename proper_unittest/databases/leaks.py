"""Finding and cleaning writes that escaped the test transaction: rows
committed through another connection (a thread, ``asyncio.to_thread``, a
second ``Database`` object) or by code that committed.
"""
from collections.abc import Iterable

import peewee as pw

from proper_unittest.databases.provision import plain_connection
from proper_unittest.databases.tables import created_models, row_counts
from proper_unittest.environment import environment_value
from proper_unittest.errors import ConfigurationError


#: Environment variable: ``test`` checks for escaped writes after every test.
CHECK_ENV = "PROPER_UNITTEST_CHECK_WRITES"
CHECK_AFTER_CLASS, CHECK_AFTER_TEST = "class", "test"


class EscapedWritesError(Exception):
    """Rows were committed through another connection (a thread, a second
    Database object) while a test class or test ran; the message names the
    tables and the likely cause."""


def check_setting(test_class: type) -> str:
    """``"class"`` (default) or ``"test"``: when escaped writes are looked
    for, from the class attribute ``check_escaped_writes`` or the
    environment variable PROPER_UNITTEST_CHECK_WRITES."""
    value = getattr(test_class, "check_escaped_writes", None) or environment_value(CHECK_ENV) or CHECK_AFTER_CLASS
    value = str(value).strip().lower()
    if value not in (CHECK_AFTER_CLASS, CHECK_AFTER_TEST):
        raise ConfigurationError(
            f"{test_class.__qualname__}: check_escaped_writes / {CHECK_ENV} is {value!r}; "
            f"use {CHECK_AFTER_CLASS!r} (check when the class ends) or {CHECK_AFTER_TEST!r} "
            "(check after every test)."
        )
    return value


def can_escape(db: pw.Database) -> bool:
    """False for in-memory SQLite: every other connection (another thread,
    another Database) gets its own empty database, so nothing can escape."""
    name = str(db.database or "")
    return not (isinstance(db, pw.SqliteDatabase) and (name == ":memory:" or "mode=memory" in name))


class WriteWatch:
    """Committed row counts of the library's tables, taken when a class
    starts; :meth:`changes` compares them with the counts now.

    Counts are read outside any transaction: from the database's own
    connection when it has none open, else from a second connection of the
    library (so the class's own uncommitted rows never count)."""

    def __init__(self, databases: Iterable[pw.Database]) -> None:
        self.databases = [db for db in databases if can_escape(db)]
        self._observers: dict[int, pw.Database] = {}
        # The same tables are counted at the class's end as at its start.
        self._models = {id(db): created_models(db) for db in self.databases}
        self.baseline = {id(db): self._committed_counts(db) for db in self.databases}
        self.start = dict(self.baseline)

    def changes(self) -> dict[pw.Database, dict[str, tuple[int, int]]]:
        """{database: {table: (rows before, rows now)}} for tables whose
        committed row count changed; the baseline moves to the counts now,
        so each escape is reported once."""
        found: dict[pw.Database, dict[str, tuple[int, int]]] = {}
        for db in self.databases:
            now = self._committed_counts(db)
            before = self.baseline[id(db)]
            changed = {t: (before.get(t, 0), n) for t, n in now.items() if n != before.get(t, 0)}
            if changed:
                found[db] = changed
            self.baseline[id(db)] = now
        return found

    def changed_since_start(self) -> list[pw.Database]:
        """The databases whose counts (as of the last :meth:`changes`)
        differ from those when the class started."""
        return [db for db in self.databases if self.baseline[id(db)] != self.start[id(db)]]

    def close(self) -> None:
        """Close the second connections."""
        for observer in self._observers.values():
            observer.close()
        self._observers.clear()

    def _committed_counts(self, db: pw.Database) -> dict[str, int]:
        models = self._models[id(db)]
        if not db.in_transaction():
            return row_counts(db, models)
        observer = self._observers.get(id(db))
        if observer is None:
            observer = plain_connection(db)
            self._observers[id(db)] = observer
        return row_counts(observer, models)


def explain_escaped(where: str, found: dict[pw.Database, dict[str, tuple[int, int]]]) -> str:
    """The error message for writes that escaped during `where`."""
    lines = [f"Rows were committed outside the test transaction during {where}:"]
    for db, tables in found.items():
        listed = ", ".join(f"{table!r} ({before} -> {now} rows)" for table, (before, now) in tables.items())
        lines.append(f"  database {db.database!r} ({type(db).__name__}): {listed}")
    lines.append(
        "Likely cause: code that writes through another connection, which the "
        "rollback cannot undo: a thread (threading.Thread, asyncio.to_thread, an "
        "executor, Proper's worker threads), or a second peewee Database object on "
        "the same database. Run that code on the test's thread, or use "
        "ProperTransactionTestCase. The library emptied the tables it created."
    )
    return "\n".join(lines)
