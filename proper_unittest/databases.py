"""The app's test databases and the transactions and savepoints that keep
every test's writes away from the next. (Creating and removing them is
``_provision``'s job.)
"""
from contextlib import contextmanager

import peewee as pw

from .errors import ConfigurationError
from .safety import all_model_classes, bound_database

# psycopg2's and psycopg 3's TRANSACTION_STATUS_INERROR: the transaction is
# aborted and refuses every statement until it is rolled back.
_PG_IN_ERROR = 3
# The savepoint a request runs under on PostgreSQL (see recover_aborted_transactions).
_REQUEST_SAVEPOINT = "proper_unittest_request"


def app_databases(app) -> dict[str, pw.Database]:
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


class Transaction:
    """A transaction (or, nested, a savepoint) on several databases at once,
    always rolled back: ``begin()`` ... ``rollback()``."""

    def __init__(self, databases) -> None:
        self.databases = list(databases)
        self._open: list[tuple[pw.Database, object]] = []

    def begin(self) -> "Transaction":
        """Open a transaction on each database (a savepoint where one is open)."""
        for db in self.databases:
            db.connect(reuse_if_open=True)
            block = db.atomic().__enter__()
            self._open.append((db, block))
        return self

    def rollback(self) -> None:
        """Undo everything done since ``begin()``, on every database."""
        errors = []
        while self._open:
            db, block = self._open.pop()
            try:
                _roll_back_block(block)
            except Exception as error:  # keep rolling back the others
                errors.append(f"{db.database!r}: {type(error).__name__}: {error}")
        if errors:
            raise ConfigurationError(
                "Could not roll back the test transaction on "
                + "; ".join(errors)
                + ". Something inside the test committed, rolled back or closed "
                "the connection the test runs in (db.commit(), db.rollback(), "
                "db.close()); its writes may have been committed."
            )


def _roll_back_block(block) -> None:
    if isinstance(block, pw._savepoint):
        block.rollback()
        block.commit(begin=False)  # release: the savepoint is no longer needed
    else:
        block.rollback(begin=False)
        block.db.pop_transaction()


@contextmanager
def recover_aborted_transactions(databases):
    """Run a block with a savepoint on each PostgreSQL database that is in a
    transaction, and roll back to it if the block left the transaction
    aborted (after an IntegrityError, say), so the test can go on querying,
    as it could on SQLite or MySQL.

    One round trip per database when nothing fails: the savepoint is never
    released, as the test's own rollback discards it with everything else
    (a later ``SAVEPOINT`` of the same name shadows it, so a ``ROLLBACK TO``
    always goes back to the latest). Outside a transaction there is nothing
    to recover, so no savepoint.
    """
    guarded = [
        db for db in databases if isinstance(db, pw.PostgresqlDatabase) and db.in_transaction()
    ]
    for db in guarded:
        db.execute_sql(f"SAVEPOINT {_REQUEST_SAVEPOINT}")
    try:
        yield
    finally:
        for db in guarded:
            if _is_aborted(db):
                db.execute_sql(f"ROLLBACK TO SAVEPOINT {_REQUEST_SAVEPOINT}")


def _is_aborted(db: pw.Database) -> bool:
    info = getattr(db.connection(), "info", None)
    return getattr(info, "transaction_status", None) == _PG_IN_ERROR
