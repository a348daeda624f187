"""The library's tables on a database: which models it created tables for,
their row counts in one query, and emptying them (children first)."""
from collections.abc import Sequence
from typing import Any, cast

import peewee as pw

from proper_unittest.databases.app import models_of, not_the_tests_sql
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


@not_the_tests_sql
def row_counts(db: pw.Database, models: Sequence[type[pw.Model]] | None = None) -> dict[str, int]:
    """{table name: rows} for the library's tables on `db`, in one query.
    Seen from `db`'s own connection: inside a transaction, its own
    uncommitted rows count too."""
    models = created_models(db) if models is None else models
    if not models:
        return {}
    parts = ", ".join(
        f"(SELECT COUNT(*) FROM {quote_table(db, table_name(model))})" for model in models
    )
    row = db.execute_sql(f"SELECT {parts}").fetchone()
    return {table_name(model): int(count) for model, count in zip(models, row)}
