"""The library's tables on a database: which models it created tables for,
their row counts in one query, and emptying them (children first)."""
import functools
from collections.abc import Sequence
from typing import Any, cast

import peewee as pw

from proper_unittest.databases.app import library_sql, models_of, not_the_tests_sql
from proper_unittest.databases.provision import created_tables, quote_table
from proper_unittest.databases.safety import table_name


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
        db.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
    try:
        for model in reversed(cast(Any, pw).sort_models(models)):  # not in types-peewee
            db.execute(model.delete())
    finally:
        if mysql:
            db.execute_sql("SET FOREIGN_KEY_CHECKS = 1")


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
