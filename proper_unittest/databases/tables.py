"""The library's tables on a database: which models it created tables for,
their row counts in one query, and emptying them (children first)."""
import functools
from collections.abc import Iterable, Sequence
from typing import Any, cast

import peewee as pw

from proper_unittest.databases.app import library_sql, models_of, not_the_tests_sql
from proper_unittest.databases.names import quote_identifier
from proper_unittest.databases.provision import claimed_name, created_tables, quote_table
from proper_unittest.databases.safety import table_name
from proper_unittest.errors import UnsafeDatabaseError


def created_models(db: pw.Database) -> list[type[pw.Model]]:
    """The models whose tables the library created on `db` (the one place
    that decides it): never a table it found there."""
    created = set(created_tables(db))
    return [model for model in models_of(db) if table_name(model) in created]


@not_the_tests_sql
def empty_tables(db: pw.Database, models: Sequence[type[pw.Model]] | None = None) -> None:
    """Delete every row of the library's tables on `db` (or of `models`),
    children first, in autocommit: the clean state between classes."""
    models = created_models(db) if models is None else models
    if not models:
        return
    mysql = isinstance(db, pw.MySQLDatabase)
    if mysql:  # InnoDB checks each row, so a self-reference could refuse
        library_sql(db, "SET FOREIGN_KEY_CHECKS = 0")
    try:
        for model in reversed(cast(Any, pw).sort_models(models)):  # not in types-peewee
            # Qualified on MySQL (quote_table): never another database's table.
            library_sql(db, f"DELETE FROM {quote_table(db, table_name(model))}")
    finally:
        if mysql:
            library_sql(db, "SET FOREIGN_KEY_CHECKS = 1")


def back_on_own_database(db: pw.Database) -> str | None:
    """MySQL: if a test switched `db`'s connection to another database
    (``USE other``), switch it back to the test database and return the
    other one's name; None when it is on its own (or not MySQL). The
    library's own statements name the test database anyway (quote_table);
    this puts the app's back on it."""
    if not isinstance(db, pw.MySQLDatabase) or db.is_closed():
        return None
    row = library_sql(db, "SELECT DATABASE()")
    current = row[0] if row else None
    own = claimed_name(db)
    if current == own:
        return None
    library_sql(db, f"USE {quote_identifier(db, own)}")
    return str(current)


def row_counts(db: pw.Database, models: Sequence[type[pw.Model]] | None = None) -> dict[str, int]:
    """{table name: rows} for the library's tables on `db` (or `models`'
    tables), in one query sent straight to the driver (``library_sql``: it
    is the library's SQL, not the test's). Seen from `db`'s own connection:
    inside a transaction, its own uncommitted rows count too."""
    models = tuple(created_models(db) if models is None else models)
    if not models:
        return {}
    row = cast(tuple[Any, ...], library_sql(db, _count_query(db, models)))  # a SELECT: one row
    return {table_name(model): int(count) for model, count in zip(models, row)}


@functools.lru_cache(maxsize=64)
def _count_query(db: pw.Database, models: tuple[type[pw.Model], ...]) -> str:
    # Made once per database and set of tables: a class counts at its start and end.
    parts = ", ".join(
        f"(SELECT COUNT(*) FROM {quote_table(db, table_name(model))})" for model in models
    )
    return f"SELECT {parts}"


def put_back_on_own_databases(databases: Iterable[pw.Database], who: str) -> None:
    """MySQL: switch back every connection of `databases` that `who` (a
    test or a class) moved to another database with ``USE``, then refuse
    to go on, naming where it went (see back_on_own_database)."""
    moved = [(db, other) for db in databases if (other := back_on_own_database(db)) is not None]
    if not moved:
        return
    listed = "; ".join(
        f"test database {claimed_name(db)!r} ({type(db).__name__}) was on {other!r}" for db, other in moved
    )
    raise UnsafeDatabaseError(
        f"Refusing to go on: {who} switched a database connection to another database "
        f"(USE): {listed}. The app's statements after the switch ran there, outside the "
        "test database. The library switched the connection back; nothing of the library's "
        "ran there (its statements name the test database). Keep tests on the test "
        "database: do not send USE; use the app's models, or a second test database "
        "configured in the app's DATABASES."
    )
