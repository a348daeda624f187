"""The app's test databases: schema set-up once per process, and the
transactions and savepoints that keep every test's writes away from the next.
"""
import atexit
import os
from contextlib import contextmanager
from pathlib import Path

import peewee as pw

from .errors import ConfigurationError


WORKER_ENV = "PROPER_UNITTEST_WORKER"
# psycopg2's and psycopg 3's TRANSACTION_STATUS_INERROR: the transaction is
# aborted and refuses every statement until it is rolled back.
_PG_IN_ERROR = 3
_PG_IN_TRANSACTION = 2

# id(db) -> the database, for every database whose schema this process made.
_prepared: dict[int, pw.Database] = {}


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
    bound = [model for model in _all_model_classes() if model._meta.database is db]
    bound_set = set(bound)
    concrete = []
    for model in bound:
        has_children = any(sub in bound_set for sub in model.__subclasses__())
        declares_table = "table_name" in vars(model.__dict__.get("Meta", object))
        if not has_children or declares_table:
            concrete.append(model)
    return concrete


def prepare_databases(databases: dict[str, pw.Database]) -> None:
    """Connect each database on this thread and (re)create its schema,
    once per process per database. Call only after the safety checks."""
    for db in databases.values():
        if id(db) in _prepared:
            db.connect(reuse_if_open=True)
            continue
        _use_worker_database(db)
        _create_database_if_missing(db)
        # The app connects and closes `autoconnect=False` databases around
        # every request, which would close the test's transaction (and fail).
        # With autoconnect on, it leaves this thread's connection alone.
        db.autoconnect = True
        db.connect(reuse_if_open=True)
        models = models_of(db)
        drop_options = {"cascade": True} if isinstance(db, pw.PostgresqlDatabase) else {}
        db.drop_tables(models, safe=True, **drop_options)
        db.create_tables(models)
        _prepared[id(db)] = db


@atexit.register
def _drop_test_schemas() -> None:
    """Leave server and file databases as empty as they were found."""
    for db in _prepared.values():
        if _is_in_memory(db):
            continue
        try:
            if db.in_transaction():
                db.rollback()
            db.drop_tables(models_of(db), safe=True)
            db.close()
            if isinstance(db, pw.SqliteDatabase) and Path(db.database).exists():
                os.remove(db.database)
        except Exception:  # pragma: no cover - best effort at interpreter exit
            pass


@contextmanager
def recover_aborted_transactions(databases):
    """Run a block in a savepoint on each PostgreSQL database, and roll back
    to it if the block left the transaction aborted (after an IntegrityError,
    say), so the test can go on querying, as it could on SQLite or MySQL."""
    postgres = [db for db in databases if isinstance(db, pw.PostgresqlDatabase) and _pg_in_transaction(db)]
    savepoints = [(db, db.savepoint().__enter__()) for db in postgres]
    try:
        yield
    finally:
        for db, savepoint in reversed(savepoints):
            if not _pg_in_transaction(db):
                continue  # the block committed or lost the connection: the test end reports it
            if _is_aborted(db):
                savepoint.rollback()
            savepoint.commit(begin=False)


def _pg_in_transaction(db: pw.Database) -> bool:
    """True when a PostgreSQL connection is open and inside a transaction
    (savepoints outside one are errors)."""
    if db.is_closed():
        return False
    conn = db.connection()
    return not conn.closed and conn.info.transaction_status in (_PG_IN_TRANSACTION, _PG_IN_ERROR)


def _is_aborted(db: pw.Database) -> bool:
    info = getattr(db.connection(), "info", None)
    return getattr(info, "transaction_status", None) == _PG_IN_ERROR


def _all_model_classes() -> list[type[pw.Model]]:
    seen: dict[type, None] = {}
    pending = list(pw.Model.__subclasses__())
    while pending:
        model = pending.pop(0)
        if model not in seen:
            seen[model] = None
            pending.extend(model.__subclasses__())
    return list(seen)


def _is_in_memory(db: pw.Database) -> bool:
    name = str(db.database or "")
    return name == ":memory:" or "mode=memory" in name


def _use_worker_database(db: pw.Database) -> None:
    """Give each parallel worker its own copy of a server or file database."""
    worker = os.environ.get(WORKER_ENV)
    if not worker or _is_in_memory(db):
        return
    name = str(db.database)
    if isinstance(db, pw.SqliteDatabase):
        path = Path(name)
        new_name = str(path.with_name(f"{path.stem}_w{worker}{path.suffix}"))
    else:
        new_name = f"{name}_w{worker}"
    db.init(new_name)


def _create_database_if_missing(db: pw.Database) -> None:
    """Create a PostgreSQL or MySQL/MariaDB test database that does not exist
    yet, through the server's maintenance database."""
    if isinstance(db, pw.PostgresqlDatabase):
        maintenance, exists_sql = "postgres", "SELECT 1 FROM pg_database WHERE datname = %s"
    elif isinstance(db, pw.MySQLDatabase):
        maintenance, exists_sql = "mysql", "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s"
    else:
        return
    server = type(db)(maintenance, **db.connect_params)
    try:
        server.connect()
        if server.execute_sql(exists_sql, (db.database,)).fetchone() is None:
            quoted = db.database.join(db.quote)
            server.execute_sql(f"CREATE DATABASE {quoted}")
    except pw.OperationalError as error:
        raise ConfigurationError(
            f"Cannot reach the database server for {db.database!r} "
            f"({type(db).__name__}): {error}"
        ) from error
    finally:
        if not server.is_closed():
            server.close()
