"""Claiming, preparing and removing the test databases, on positive proof.

The library drops or deletes only what it owns: a server database or a
SQLite file it created, and tables it created. Each database it prepares
gets a marker table listing what it created there, so that a later run
knows the database is its own. A database that exists, holds tables and
has no marker is refused, untouched; an empty one is adopted.
"""
import hashlib
import importlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, cast

import peewee as pw

from proper_unittest.databases import creations, guard, names, run_lock, safety, sqlite_names
from proper_unittest.isolation.termination import register_exit_hook
from proper_unittest.errors import ConfigurationError, UnsafeDatabaseError


MARKER_TABLE = "proper_unittest_marker"
#: Keep test databases and tables at exit; reuse them while the schema matches.
KEEPDB_ENV = "PROPER_UNITTEST_KEEPDB"
#: Comma-separated database names (or SQLite file names) to adopt although
#: they hold tables and no marker.
ADOPT_ENV = "PROPER_UNITTEST_ADOPT"
#: The runner tells its worker processes in this variable where to note
#: each database or SQLite file they create (see note_created_in).
CREATED_ENV = "PROPER_UNITTEST_CREATED_FILE"
#: Worker number of a parallel run: ours, or pytest-xdist's ("gw0").
WORKER_ENVS = ("PROPER_UNITTEST_WORKER", "PYTEST_XDIST_WORKER")


@dataclass
class Claim:
    """What the library owns in one test database."""

    db: pw.Database
    owns_database: bool = False  # created by the library (this run or a marked earlier one)
    tables: list[str] = field(default_factory=list)  # tables the library created
    schemas: list[str] = field(default_factory=list)  # PostgreSQL schemas it created there
    # The SQLite file the library created: its absolute path, (device, inode).
    created_file: tuple[str, tuple[int, int]] | None = None
    # The record that this run created the database (see creations),
    # until the marker says so.
    record: Path | None = None
    # A copy of `db`'s connection settings as claimed (None in memory): the
    # library's own connections and the exit's removal go where the claim
    # was made, whatever a test later did to `db` (renamed it, re-initialized it).
    pinned: pw.Database | None = None


# id(db) -> its claim, for every database this process prepared.
_claims: dict[int, Claim] = {}
# Claims being prepared (moved to _claims when done).
_in_progress: dict[int, Claim] = {}


def claim_app_databases(app: Any, requester: str) -> list[pw.Database]:
    """Check that `app` may be tested and claim and prepare its test
    databases; return them. A refusal is said in full once per app: a later
    test class of the same app gets a one-line reference to it."""
    refused = _refusals.get(id(app))
    if refused:
        first_class, summary = refused
        raise UnsafeDatabaseError(f"Refused, as for {first_class} above ({summary}).")
    try:
        databases = list(safety.check_app(app).values())
        prepare_databases(databases)
    except ConfigurationError as error:
        _refusals[id(app)] = (requester, str(error).split(": ")[0])
        raise
    # Only now: a refused app's databases never count as another app's.
    safety.remember_app(app)
    return databases


# id(app) -> (first test class refused, the refusal's first sentence)
_refusals: dict[int, tuple[str, str]] = {}


def prepare_databases(databases: Iterable[pw.Database]) -> None:
    """Claim each database (refusing one that is not provably a test
    database), connect it on this thread and (re)create its schema, once
    per process per database. Call only after the configuration checks."""
    for db in databases:
        if id(db) in _claims:
            db.connect(reuse_if_open=True)
            continue
        use_worker_database(db)
        _make_path_absolute(db)
        problem = safety.why_not_a_test_database(db)
        if problem:  # a worker suffix never makes a name pass; this is for safety's sake
            raise UnsafeDatabaseError(f"Refusing to run tests on {db.database!r}: {problem}.")
        if not safety.is_in_memory(db):
            _silence_deprecated_mysql_db_argument(db)
        run_lock.name_session(db)
        with guard.provisioning():
            same = _claim_of_same_database(db)
            _claims[id(db)] = _join_claim(db, same) if same else _claim_and_build(db)
        _in_progress.pop(id(db), None)
        guard.prove(db)


def _claim_of_same_database(db: pw.Database) -> "Claim | None":
    """The claim of another Database object of this process that points at
    the same server database or SQLite file as `db`, if any."""
    if safety.is_in_memory(db):
        return None
    key = _physical_key(db)
    return next((c for c in _claims.values() if _physical_key(c.db) == key), None)


def _join_claim(db: pw.Database, other: "Claim") -> "Claim":
    """Share `other`'s claim: add the tables of `db`'s models that are not
    there yet, and drop nothing (they are the other object's tables)."""
    from proper_unittest.databases.app import models_of  # noqa: PLC0415 - databases imports this module

    _connect_for_tests(db)
    existing = set(_user_tables(db))
    new_models = [m for m in models_of(db) if safety.table_name(m) not in existing]
    clashes = sorted({safety.table_name(m) for m in models_of(db)} & existing - set(other.tables))
    if clashes and not _is_adopted(db):
        db.close()
        raise UnsafeDatabaseError(_clash_message(db, clashes))
    missing = _missing_schemas(db, new_models)
    other.schemas.extend(missing)
    other.tables.extend(safety.table_name(m) for m in new_models)
    _write_marker(db, other, schema="")
    _create_schemas(db, missing)
    db.create_tables(new_models)
    claim = Claim(db, owns_database=other.owns_database, tables=other.tables, schemas=other.schemas,
                  created_file=other.created_file, pinned=plain_connection(db))
    _write_marker(db, claim, schema="")  # a mixed schema: never reused as is
    return claim


def _physical_key(db: pw.Database) -> tuple[object, ...]:
    return guard.physical_key(db)


def created_tables(db: pw.Database) -> list[str]:
    """The tables of `db` the library created (and may empty or drop)."""
    claim = _claims.get(id(db))
    return list(claim.tables) if claim else []


def keep_databases() -> bool:
    """True when test databases are kept at exit (``--keepdb``)."""
    return os.environ.get(KEEPDB_ENV, "") not in ("", "0")


def use_worker_database(db: pw.Database) -> None:
    """Give each parallel worker its own copy of a server or file database:
    the name gets ``_w<K>`` (``_<gwN>`` under pytest-xdist)."""
    worker = _worker_suffix()
    if not worker or safety.is_in_memory(db):
        return
    if isinstance(db, pw.SqliteDatabase):
        read = sqlite_names.connection_name(db)
        path = Path(read.path)
        _rename(db, sqlite_names.with_path(read, str(path.with_name(f"{path.stem}_{worker}{path.suffix}"))))
        return
    key = safety.name_override_key(db)
    name = _worker_server_name(db, worker)
    if key:
        db.connect_params[key] = name
    else:
        _rename(db, name)


def _worker_server_name(db: pw.Database, worker: str) -> str:
    """The name of worker `worker`'s own copy of server database `db`
    (cut short and hashed when the server would not keep it whole)."""
    return names.derived_name(safety.target_name(db), worker, safety.backend_of(db))


def _make_path_absolute(db: pw.Database) -> None:
    """Point a SQLite database at its file's absolute path, so that a test
    that changes the current folder still opens (and the exit removes) it."""
    if not isinstance(db, pw.SqliteDatabase) or safety.is_in_memory(db):
        return
    read = sqlite_names.connection_name(db)
    if read.problem is None and not os.path.isabs(read.path):
        _rename(db, sqlite_names.with_path(read, sqlite_names.absolute(read.path)))


def _rename(db: pw.Database, name: str) -> None:
    # Not db.init(), which resets options (SQLite's timeout, PostgreSQL's encoding).
    if not db.is_closed():
        db.close()
    db.database = name


def _reset_tables(db: pw.Database, tables: list[str]) -> None:
    """Delete every row of `tables` and reset their id sequences."""
    tables = [t for t in tables if t in set(_user_tables(db))]
    if not tables:
        return
    quoted = [quote_table(db, t) for t in tables]
    backend = safety.backend_of(db)
    if backend == "postgres":
        db.execute_sql(f"TRUNCATE {', '.join(quoted)} RESTART IDENTITY CASCADE")
    elif backend == "mysql":
        db.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
        try:
            for name in quoted:
                db.execute_sql(f"TRUNCATE TABLE {name}")
        finally:
            db.execute_sql("SET FOREIGN_KEY_CHECKS = 1")
    else:
        for name in quoted:
            db.execute_sql(f"DELETE FROM {name}")
        if "sqlite_sequence" in _sqlite_internal_tables(db):
            marks = ", ".join("?" for _ in tables)
            db.execute_sql(f"DELETE FROM sqlite_sequence WHERE name IN ({marks})", tables)


# ---- claiming and building ----


def _claim_and_build(db: pw.Database) -> Claim:
    from proper_unittest.databases.app import models_of  # noqa: PLC0415 - databases imports this module

    claim = Claim(db)
    if safety.is_in_memory(db):
        _connect_for_tests(db)
        _verify_connected_database(db)
        _build(db, models_of(db), claim, previous=[])
        return claim
    claim.pinned = plain_connection(db)

    # Known to the exit hook from now on: a run stopped half way through
    # (Ctrl-C, SIGTERM) still removes what it made.
    _in_progress[id(db)] = claim
    try:
        _create_database_if_missing(db, claim)
    except UnsafeDatabaseError:
        del _in_progress[id(db)]
        raise
    if not claim.owns_database:
        _note_claimed(db, created=False)
    _connect_for_tests(db)
    try:
        _hold_for_this_run(db)
        tables, marker, adopted, clashes = _ownership(db, created=claim.owns_database)
        guard.prove(db)
    except UnsafeDatabaseError:
        del _in_progress[id(db)]
        db.close()
        if claim.owns_database:  # made just now: take it away again
            _remove(claim)
        run_lock.let_go(db)
        raise
    if not claim.owns_database and not tables and marker is None:
        _take_over_if_left_by_a_killed_run(db, claim)
    previous = marker["tables"] if marker else []
    claim.schemas = list(marker["schemas"]) if marker else []
    if not claim.owns_database and marker and marker["created"]:  # an earlier run made it
        claim.owns_database = True
        if isinstance(db, pw.SqliteDatabase):
            path = safety.sqlite_path(db)
            found = os.stat(path)
            claim.created_file = (path, (found.st_dev, found.st_ino))
    models = models_of(db)
    schema = schema_hash(db, models)
    reusable = keep_databases() and marker and marker["schema"] == schema and set(previous) >= {
        safety.table_name(m) for m in models
    } and set(tables) >= set(previous)
    changed = _changed_by_hand(db, models) if reusable else ""
    if changed:
        print(f"proper_unittest: --keepdb: the tables of {_display_name(db)!r} no longer match "
              f"the models ({changed}): rebuilding them.", file=sys.stderr, flush=True)
    if reusable and not changed:
        claim.tables = list(previous)
        _reset_tables(db, claim.tables)
    else:
        _build(db, models, claim, previous=[t for t in previous if t in tables] + clashes)
    _write_marker(db, claim, schema)
    return claim


def _changed_by_hand(db: pw.Database, models: Iterable[type[pw.Model]]) -> str:
    """How the live tables of `db` differ from `models` (their column names,
    as the server reports them), "" when they match."""
    for model in models:
        meta = cast(Any, model)._meta
        schema = meta.schema if safety.backend_of(db) == "postgres" else None
        live = {column.name for column in db.get_columns(meta.table_name, schema)}
        wanted = {field.column_name for field in meta.sorted_fields}
        if live != wanted:
            extra, missing = sorted(live - wanted), sorted(wanted - live)
            parts = [f"extra column(s) {', '.join(extra)}"] if extra else []
            parts += [f"missing column(s) {', '.join(missing)}"] if missing else []
            return f"table {meta.table_name}: {'; '.join(parts)}"
    return ""


def preflight(app: Any) -> None:
    """Every check :func:`claim_app_databases` makes, without writing
    anything: configuration first, then, for each existing server database
    or SQLite file, what it holds. Raises ``UnsafeDatabaseError``."""
    for db in safety.check_app(app).values():
        if id(db) in _claims or safety.is_in_memory(db):
            continue
        if not _exists(db):
            _refuse_if_file_cannot_be_made(db)
            continue
        _refuse_if_in_use(db)
        was_closed = db.is_closed()
        with guard.provisioning():
            db.connect(reuse_if_open=True)
            try:
                _ownership(db, created=False)
            finally:
                if was_closed:
                    db.close()


def _ownership(db: pw.Database, *, created: bool) -> tuple[list[str], "_Marker | None", bool, list[str]]:
    """Check that `db` (connected) is provably a test database this library
    may use; return ``(tables, marker or None, adopted, clashing tables)``."""
    from proper_unittest.databases.app import models_of  # noqa: PLC0415 - databases imports this module

    _verify_connected_database(db)
    tables = _user_tables(db)
    marker = _read_marker(db) if MARKER_TABLE in tables else None
    adopted = _is_adopted(db)
    if marker is None and tables and not created and not adopted:
        raise UnsafeDatabaseError(_not_ours_message(db, tables))
    previous = marker["tables"] if marker else []
    clashes = sorted({safety.table_name(m) for m in models_of(db)} & set(tables) - set(previous))
    if clashes and not adopted:
        raise UnsafeDatabaseError(_clash_message(db, clashes))
    return tables, marker, adopted, clashes


def _exists(db: pw.Database) -> bool:
    if isinstance(db, pw.SqliteDatabase):
        return Path(safety.sqlite_path(db)).exists()
    server = _server_connection(db)
    if server is None:
        return True
    sql = {
        "postgres": "SELECT 1 FROM pg_database WHERE datname = %s",
        "mysql": "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s",
    }[safety.backend_of(db)]
    try:
        server.connect()
        return server.execute_sql(sql, (safety.target_name(db),)).fetchone() is not None
    except pw.OperationalError as error:
        raise ConfigurationError(
            f"Cannot reach the database server for {safety.target_name(db)!r} "
            f"({type(db).__name__}): {error}"
        ) from error
    finally:
        if not server.is_closed():
            server.close()


def _build(db: pw.Database, models: list[type[pw.Model]], claim: Claim, previous: list[str]) -> None:
    """Drop the tables the library made earlier, then create the models' tables."""
    if previous:
        quoted = ", ".join(quote_table(db, t) for t in previous)
        cascade = " CASCADE" if safety.backend_of(db) == "postgres" else ""
        if safety.backend_of(db) == "mysql":
            db.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
        try:
            db.execute_sql(f"DROP TABLE IF EXISTS {quoted}{cascade}")
        finally:
            if safety.backend_of(db) == "mysql":
                db.execute_sql("SET FOREIGN_KEY_CHECKS = 1")
    # Listed (and marked) before they exist, so that a run stopped while
    # creating them still knows them for its own.
    claim.tables = [safety.table_name(m) for m in models]
    missing = _missing_schemas(db, models)
    claim.schemas += [s for s in missing if s not in claim.schemas]
    if not safety.is_in_memory(db):
        _write_marker(db, claim, schema="")
    _create_schemas(db, missing)
    db.create_tables(models)


def _missing_schemas(db: pw.Database, models: Iterable[type[pw.Model]]) -> list[str]:
    """The PostgreSQL schemas (``Meta.schema``) of `models` that `db` lacks."""
    if safety.backend_of(db) != "postgres":
        return []
    wanted = {safety.model_meta(m).schema for m in models} - {None, "", "public"}
    existing = {row[0] for row in db.execute_sql("SELECT nspname FROM pg_namespace").fetchall()}
    return sorted(wanted - existing)


def _create_schemas(db: pw.Database, schemas: list[str]) -> None:
    """Create `schemas` inside the test database `db` (listed in its marker
    first: they are the library's, dropped with the database or, in a
    database it adopted, at exit)."""
    for schema in schemas:
        db.execute_sql(f"CREATE SCHEMA {_quote(db, schema)}")


def schema_hash(db: pw.Database, models: Iterable[type[pw.Model]]) -> str:
    """A hash of the DDL the models' tables and indexes are created with."""
    statements = []
    for model in sorted(models, key=safety.table_name):
        schema = cast(Any, model)._schema  # not in types-peewee
        statements.append(db.get_sql_context().sql(schema._create_table(safe=False)).query()[0])
        for index in schema._create_indexes(safe=False):
            statements.append(db.get_sql_context().sql(index).query()[0])
    return hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]


def _connect_for_tests(db: pw.Database) -> None:
    # The app connects and closes `autoconnect=False` databases around every
    # request, which would close the test's transaction (and fail). With
    # autoconnect on, it leaves this thread's connection alone.
    db.autoconnect = True
    if isinstance(db, pw.SqliteDatabase):
        # A system test's live server uses this connection from its own
        # thread (see shared_connection); an in-memory database cannot be
        # reopened with this later: a new connection is a new, empty database.
        db.connect_params.setdefault("check_same_thread", False)
    db.connect(reuse_if_open=True)


_CURRENT_DATABASE = {"postgres": "SELECT current_database()", "mysql": "SELECT DATABASE()"}


def _verify_connected_database(db: pw.Database) -> None:
    """Ask the server (or SQLite: ``PRAGMA database_list``) which database
    the connection really is on: it must be the test database checked."""
    actual = guard.opened_database(db)
    if actual is None:
        return
    if isinstance(db, pw.SqliteDatabase):
        expected = "" if safety.is_in_memory(db) else os.path.realpath(safety.sqlite_path(db))
        is_test = actual == "" or safety.is_test_name(Path(actual).name)
    else:
        expected = safety.target_name(db)
        is_test = safety.is_test_name(actual)
    if actual != expected or not is_test:
        db.close()
        raise UnsafeDatabaseError(
            f"Refusing to run tests: {type(db).__name__} {expected!r} connected to "
            f"database {actual or 'in memory'!r}, not to the test database it names. Check "
            "the connection options (a URI's parameters, a DSN, a service file, an option "
            "file) that override the name. Nothing was written."
        )


def _refuse_if_in_use(db: pw.Database) -> None:
    """Refuse, before anything runs, a server database (the one this
    process would use: a worker's own) that another test run holds."""
    if safety.backend_of(db) not in ("postgres", "mysql"):
        return
    suffix = _worker_suffix()
    base = safety.target_name(db)
    name = _worker_server_name(db, suffix) if suffix else base
    if name != base and not _exists(plain_connection(db, name)):
        return
    probe = plain_connection(db, name)
    probe.connect()
    try:
        if not run_lock.try_lock(probe, name):
            raise UnsafeDatabaseError(run_lock.in_use_message(name, run_lock.holder(probe, name)))
        run_lock.release(probe, name)
    finally:
        probe.close()


def _hold_for_this_run(db: pw.Database) -> None:
    """Take the run lock of `db` until this process ends (see run_lock),
    refusing a database another test run holds: two runs on one database
    would drop each other's tables."""
    lock = None if isinstance(db, pw.SqliteDatabase) else plain_connection(db)
    run_lock.hold(db, lock)


def _user_tables(db: pw.Database) -> list[str]:
    backend = safety.backend_of(db)
    if backend == "postgres":
        rows = db.execute_sql(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY table_schema, table_name"
        ).fetchall()
        return [safety.listed_table(schema, name, backend) for schema, name in rows]
    if backend == "mysql":
        rows = db.execute_sql(  # the database claimed, not the session's current one
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s ORDER BY table_name", (claimed_name(db),)
        ).fetchall()
        return [row[0] for row in rows]
    return sorted(_get_tables(db))


def _get_tables(db: pw.Database) -> list[str]:
    """``db.get_tables()`` (types-peewee has it return None)."""
    tables: list[str] = cast(Any, db).get_tables()
    return tables


def _sqlite_internal_tables(db: pw.Database) -> set[str]:
    rows = db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


# ---- the marker ----


class _Marker(TypedDict):
    """What the marker table of a database says."""

    created: bool  # the library created the database
    schema: str  # schema_hash() of the tables, "" when mixed or unfinished
    tables: list[str]  # the tables the library created
    schemas: list[str]  # the PostgreSQL schemas the library created


def _read_marker(db: pw.Database) -> _Marker:
    rows = db.execute_sql(f"SELECT kind, value FROM {_quote(db, MARKER_TABLE)}").fetchall()
    marker: _Marker = {"created": False, "schema": "", "tables": [], "schemas": []}
    for kind, value in rows:
        if kind == "table":
            marker["tables"].append(value)
        elif kind == "pg_schema":
            marker["schemas"].append(value)
        elif kind == "created":
            marker["created"] = value == "1"
        elif kind == "schema":
            marker["schema"] = value
    return marker


def _write_marker(db: pw.Database, claim: Claim, schema: str) -> None:
    table = _quote(db, MARKER_TABLE)
    db.execute_sql(f"CREATE TABLE IF NOT EXISTS {table} (kind VARCHAR(20), value VARCHAR(255))")
    db.execute_sql(f"DELETE FROM {table}")
    param = db.param
    rows = [("created", "1" if claim.owns_database else "0"), ("schema", schema)]
    rows += [("table", name) for name in claim.tables]
    rows += [("pg_schema", name) for name in claim.schemas]
    for kind, value in rows:
        db.execute_sql(f"INSERT INTO {table} (kind, value) VALUES ({param}, {param})", (kind, value))
    if claim.owns_database:  # the marker says it now
        creations.forget(claim.record)
        claim.record = None


def _is_adopted(db: pw.Database) -> bool:
    wanted = {n.strip() for n in os.environ.get(ADOPT_ENV, "").split(",") if n.strip()}
    name = Path(safety.sqlite_path(db)).name if isinstance(db, pw.SqliteDatabase) else safety.target_name(db)
    return name in wanted


def _not_ours_message(db: pw.Database, tables: list[str]) -> str:
    name = _display_name(db)
    shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
    return (
        f"Refusing to use test database {name!r}: it already exists and holds tables "
        f"({shown}) but no {MARKER_TABLE!r} table, so proper_unittest did not create it "
        "and cannot tell it holds nothing of value. Nothing was touched. If it is a "
        f"test database you can spare, adopt it once with {ADOPT_ENV}={name} (its "
        "clashing tables are then replaced), or empty it, or point the tests at "
        "another database."
    )


def _clash_message(db: pw.Database, clashes: list[str]) -> str:
    name = _display_name(db)
    return (
        f"Refusing to use test database {name!r}: it holds table(s) "
        f"{', '.join(clashes)} that the models need but proper_unittest did not "
        f"create. Nothing was touched. Drop them yourself, or adopt the database "
        f"with {ADOPT_ENV}={name} to let the tests replace them."
    )


def _display_name(db: pw.Database) -> str:
    if isinstance(db, pw.SqliteDatabase):
        return Path(safety.sqlite_path(db)).name
    return safety.target_name(db)


# ---- server databases ----


def plain_connection(db: pw.Database, name: str | None = None) -> pw.Database:
    """A new, never pooled Database object with `db`'s connection options,
    on database `name` (default: the one `db` connects to). For a database
    this process claimed, the options and name are those it was claimed
    with (see Claim.pinned), not what a test may have changed since."""
    db = _pinned(db)
    plain = next(
        klass for klass in type(db).__mro__
        if issubclass(klass, pw.Database) and "Pool" not in klass.__name__
    )
    params = {
        key: value for key, value in db.connect_params.items()
        if key not in ("dbname", "database", "db")
    }
    if isinstance(db, pw.SqliteDatabase):
        return plain(name or db.database, **params)
    other = plain(name or safety.target_name(db), **params)
    if safety.backend_of(db) == "mysql":
        # `database=` too, so PyMySQL does not warn about peewee's `db=`.
        other.connect_params["database"] = other.database
    return other


def _pinned(db: pw.Database) -> pw.Database:
    """`db` as this process claimed it (see Claim.pinned), or `db` itself."""
    claim = _claims.get(id(db)) or _in_progress.get(id(db))
    return claim.pinned if claim is not None and claim.pinned is not None else db


def claimed_name(db: pw.Database) -> str:
    """The server database name `db` was claimed under (its own name if
    this process did not claim it)."""
    return safety.target_name(_pinned(db))


def _server_connection(db: pw.Database) -> pw.Database | None:
    """A plain connection to the server of `db`, outside it."""
    maintenance = {"postgres": "postgres", "mysql": "information_schema"}.get(safety.backend_of(db))
    return plain_connection(db, maintenance) if maintenance else None


def _create_database_if_missing(db: pw.Database, claim: Claim) -> None:
    """Create a test database (a server database or a SQLite file) that
    does not exist yet. The claim owns it only once it is made: a database
    that someone else made in between is never taken for the library's."""
    if _exists(db):
        return
    if isinstance(db, pw.SqliteDatabase):
        _create_file(db, claim)
        return
    server = _server_connection(db)
    if server is None:
        return
    name = safety.target_name(db)
    key = _physical_key(db)
    server.connect()
    try:
        _refuse_switching_options(db, server)
        record = creations.intend(key)
        # A signal waits until the claim knows the database for its own.
        with creations.signals_deferred():
            try:
                server.execute_sql(f"CREATE DATABASE {_quote(server, name)}")
            except pw.DatabaseError as error:
                creations.forget(record)
                raise UnsafeDatabaseError(
                    f"Refusing to use test database {name!r}: creating it failed ({error}). "
                    "Nothing was dropped. Check that the server's user may create databases, "
                    "or create it yourself."
                ) from None
            claim.owns_database = True
            claim.record = record
            creations.created(record, key)
            _note_claimed(db, created=True)
    finally:
        server.close()


def _refuse_switching_options(db: pw.Database, server: pw.Database) -> None:
    """Refuse, before a database is created, connection options that land
    a connection on another database than the one it names (a MySQL
    ``init_command`` running USE, say): `server` (connected) has `db`'s
    options and names the server's maintenance database."""
    landed = guard.opened_database(server)
    if landed != server.database:
        raise UnsafeDatabaseError(
            f"Refusing to create test database {safety.target_name(db)!r}: with its connection "
            f"options, a connection to database {server.database!r} landed on {landed!r}. Check the "
            "connection options (an init_command, a DSN, a service file, an option file) that "
            "switch databases. Nothing was created."
        )


def _create_file(db: pw.Database, claim: Claim) -> None:
    path = safety.sqlite_path(db)
    key = _physical_key(db)
    record = creations.intend(key)
    with creations.signals_deferred():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:  # made by someone else since _exists(): not ours
            creations.forget(record)
            return
        except OSError as error:
            creations.forget(record)
            raise UnsafeDatabaseError(_cannot_make_file(db, str(error.strerror), path)) from None
        made = os.stat(path)
        claim.created_file = (path, (made.st_dev, made.st_ino))
        claim.owns_database = True
        claim.record = record
        creations.created(record, key, claim.created_file[1])
        _note_claimed(db, created=True, file=claim.created_file)


def _refuse_if_file_cannot_be_made(db: pw.Database) -> None:
    """Before any test: refuse a SQLite test database whose file does not
    exist and could not be made (its folder is missing or not writable),
    as making it would refuse it later. Touches nothing."""
    if not isinstance(db, pw.SqliteDatabase):
        return
    path = safety.sqlite_path(db)
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        reason = "its folder is not a folder" if os.path.exists(folder) else "its folder does not exist"
        raise UnsafeDatabaseError(_cannot_make_file(db, reason, path))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UnsafeDatabaseError(_cannot_make_file(db, "its folder is not writable", path))


def _cannot_make_file(db: pw.Database, reason: str, path: str) -> str:
    return (
        f"Refusing to use test database {_display_name(db)!r}: its file cannot be created "
        f"({reason}: {path}). Nothing was touched. Create its folder, or point the database "
        "at a folder the tests may write to."
    )


def _take_over_if_left_by_a_killed_run(db: pw.Database, claim: Claim) -> None:
    """Own the empty, unmarked database `db` (held under this run's lock)
    when a record says a run of this machine that is gone created it: it
    was killed before it could mark it (see creations)."""
    identity = None
    if isinstance(db, pw.SqliteDatabase):
        path = safety.sqlite_path(db)
        found = os.stat(path)
        identity = (found.st_dev, found.st_ino)
    record = creations.created_by_a_run_that_is_gone(_physical_key(db), identity)
    if record is None:
        return
    claim.owns_database = True
    claim.record = record
    if identity is not None:
        claim.created_file = (safety.sqlite_path(db), identity)
    _note_claimed(db, created=True, file=claim.created_file)
    print(f"proper_unittest: test database {_display_name(db)!r} was created by a test run that "
          "was stopped before it could prepare it: it is this run's to remove.",
          file=sys.stderr, flush=True)


# Where this process notes the databases it creates (None: nowhere).
_created_file: list[str] = []


def note_created_in(path: str | os.PathLike[str] | None) -> None:
    """From now on, note each database or SQLite file this process creates
    in the file at *path* (one JSON line), for the runner to drop them if
    the process dies (see drop_created_databases); None: note nothing."""
    _created_file[:] = [str(path)] if path else []


def _note_claimed(db: pw.Database, created: bool, file: tuple[str, tuple[int, int]] | None = None) -> None:
    if not _created_file:
        return
    plain = plain_connection(db)
    entry = {"class": f"{type(plain).__module__}:{type(plain).__qualname__}", "created": created,
             "database": plain.database, "params": plain.connect_params, "file": file}
    with open(_created_file[0], "a", encoding="utf-8") as notes:
        notes.write(json.dumps(entry, default=str) + "\n")


def _noted_databases(path: str | os.PathLike[str]) -> list[tuple[pw.Database, bool, Claim]]:
    """``(database, created, claim of what was created)`` for each database
    noted in the file at *path*."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    noted = []
    for line in dict.fromkeys(lines):
        try:
            entry = json.loads(line)
            module, _, name = entry["class"].partition(":")
            klass = getattr(importlib.import_module(module), name)
            params = dict(entry["params"])
            # plain_connection gives MySQL the name as `database=` too: not twice.
            override = params.pop("database", None)
            db = klass(entry["database"], **params)
            if override is not None:
                db.connect_params["database"] = override
            file = entry.get("file")
            created_file = (str(file[0]), (int(file[1][0]), int(file[1][1]))) if file else None
            claim = Claim(db, owns_database=bool(entry["created"]), created_file=created_file)
            noted.append((db, bool(entry["created"]), claim))
        except (ValueError, KeyError, TypeError, ImportError, AttributeError):
            continue
    return noted


def noted_created_databases(path: str | os.PathLike[str]) -> list[str]:
    """The names of the databases and SQLite files noted as created in *path*
    (see note_created_in)."""
    return [_display_name(db) for db, created, _ in _noted_databases(path) if created]


def cancel_noted_queries(path: str | os.PathLike[str]) -> None:
    """Cancel the queries running on the PostgreSQL sessions of the
    databases noted in *path* (see note_created_in): a test blocked in one
    then sees the signal that stops the run."""
    _end_noted_sessions(path, "pg_cancel_backend")


def drop_created_databases(path: str | os.PathLike[str]) -> None:
    """After the process that noted them in *path* died: drop the databases
    and SQLite files it created (on PostgreSQL, ending its sessions), and
    end its sessions on the others."""
    _end_noted_sessions(path, "pg_terminate_backend")
    for _, created, claim in _noted_databases(path):
        if created:  # a server database only if still marked; a file only if still the same
            _best_effort(_remove, claim)


def _end_noted_sessions(path: str | os.PathLike[str], function: str) -> None:
    for db, _, _ in _noted_databases(path):
        session = db.connect_params.get("application_name")
        server = _server_connection(db) if safety.backend_of(db) == "postgres" and session else None
        if server is None:
            continue
        try:
            with guard.provisioning():
                server.connect()
            # A DROP DATABASE is the process's own clean-up: cut short, it
            # would leave the database behind (invalid).
            server.execute_sql(
                f"SELECT {function}(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid() "
                "AND (query NOT ILIKE 'DROP DATABASE%%' OR %s)", (session, function == "pg_terminate_backend")
            )
        except Exception:  # noqa: BLE001 - a run being stopped: go on with the rest
            pass
        finally:
            server.close()


def _drop_server_database(db: pw.Database, own: pw.Database) -> None:
    """Drop `db`'s database; `own` is this process's connection to it,
    holding its run lock (kept until the drop where the server allows)."""
    server = _server_connection(db)
    assert server is not None  # only PostgreSQL and MySQL databases are created and dropped
    name = _quote(server, safety.target_name(db))
    server.connect()
    try:
        if safety.backend_of(db) == "postgres" and (server.server_version or 0) >= 130000:
            server.execute_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        else:
            if safety.backend_of(db) == "postgres":  # its sessions would block the DROP
                _best_effort(own.close)
                run_lock.let_go(db)
            server.execute_sql(f"DROP DATABASE IF EXISTS {name}")
    finally:
        server.close()


def _silence_deprecated_mysql_db_argument(db: pw.Database) -> None:
    # peewee passes the name as PyMySQL's deprecated `db=`; an explicit
    # `database=` (the same name) is what PyMySQL uses then, silently.
    if safety.backend_of(db) == "mysql" and not safety.name_override_key(db):
        db.connect_params["database"] = db.database


# ---- at exit ----


def release_databases() -> None:
    """Drop what the library created (unless ``--keepdb``): databases and
    SQLite files it owns, else the tables it created and its marker."""
    claims = [c for c in [*_claims.values(), *_in_progress.values()] if not safety.is_in_memory(c.db)]
    _claims.clear()
    _in_progress.clear()
    try:
        with guard.guarding("the exit hook (removing the test databases)"), _signals_ignored(bool(claims)):
            _release(claims)
    finally:
        run_lock.let_go_of_all()


@contextmanager
def _signals_ignored(wanted: bool) -> Iterator[None]:
    """Ignore SIGTERM and SIGINT in the block (main thread only): one
    arriving in the middle of a DROP DATABASE would leave it half done (an
    invalid database on PostgreSQL). Whoever sent it kills the process
    with SIGKILL if the clean-up takes too long."""
    if not wanted or threading.current_thread() is not threading.main_thread():
        yield
        return
    # A handler of the library's (see isolation.termination) already lets the hooks finish.
    cutting = (signal.SIG_DFL, signal.default_int_handler)
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGTERM, signal.SIGINT)
                if signal.getsignal(signum) in cutting}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


register_exit_hook(release_databases)


def _release(claims: list[Claim]) -> None:
    for claim in claims:  # first end every transaction: they would block a DROP
        _best_effort(_end_transactions, claim.db)
    if keep_databases():
        for claim in claims:
            _best_effort(claim.db.close)
        return
    removed: set[tuple[object, ...]] = set()
    for claim in claims:
        key = _physical_key(claim.pinned or claim.db)
        _best_effort(claim.db.close)
        if key in removed:
            continue
        if claim.owns_database:
            _best_effort(_remove, claim)
        else:
            _best_effort(_drop_what_it_made, claim)
        removed.add(key)


def _drop_what_it_made(claim: Claim) -> None:
    """In a database the library adopted: drop the tables and schemas it
    made, and its marker, through a new connection made with the settings
    it was claimed with (see Claim.pinned), once the server confirms that
    connection is on the database claimed (a test cannot point it elsewhere)."""
    own = plain_connection(claim.pinned or claim.db)
    with guard.provisioning():
        own.connect()
    try:
        if not isinstance(own, pw.SqliteDatabase) and not _is_on_its_database(own):
            return
        _drop_tables(own, claim.tables + [MARKER_TABLE])
        for schema in claim.schemas:  # only if empty: nothing of anyone else's in it
            _best_effort(own.execute_sql, f"DROP SCHEMA IF EXISTS {_quote(own, schema)}")
    finally:
        own.close()


def _end_transactions(db: pw.Database) -> None:
    if db.is_closed():
        return
    while db.in_transaction():  # a run stopped mid-test left its blocks open
        db.pop_transaction()
    db.rollback()


def _best_effort(func: Callable[..., object], *args: Any) -> None:
    try:
        func(*args)
    except Exception:  # pragma: no cover - at interpreter exit, go on with the rest
        pass


def _remove(claim: Claim) -> None:
    """Remove the database or file `claim` owns (see _remove_now)."""
    with guard.provisioning():
        _remove_now(claim)
    creations.forget(claim.record)


def _remove_now(claim: Claim) -> None:
    """Remove the database or file `claim` owns, after checking it is still
    the one the library made: the same file (path and identity), or a
    server database whose marker says the library created it and that no
    other live test run holds (see run_lock)."""
    if isinstance(claim.db, pw.SqliteDatabase):
        _remove_file(claim)
        return
    db = claim.pinned or claim.db  # where the claim was made, whatever a test did to claim.db
    own = plain_connection(db)
    try:
        own.connect()
    except pw.OperationalError:
        if not _is_invalid(db):
            raise
        _drop_server_database(db, own)  # a DROP of it was cut short: finish it
        return
    try:
        if not _may_drop(db, own):
            return
        for attempt in range(3):
            try:
                _drop_server_database(db, own)
                return
            except pw.OperationalError:  # pragma: no cover - another session still connected
                time.sleep(0.2 * (attempt + 1))
    finally:
        _best_effort(own.close)


def _remove_file(claim: Claim) -> None:
    if claim.created_file is None:
        return
    path, identity = claim.created_file
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return
    if (found.st_dev, found.st_ino) != identity:
        return  # another file now has that name
    for suffix in ("-journal", "-wal", "-shm", ""):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _is_invalid(db: pw.Database) -> bool:
    """True when PostgreSQL marks `db`'s database invalid: a DROP DATABASE
    of it was interrupted, and only dropping it is left to do with it."""
    server = _server_connection(db)
    if server is None or safety.backend_of(db) != "postgres":
        return False
    server.connect()
    try:
        row = server.execute_sql("SELECT datconnlimit FROM pg_database WHERE datname = %s",
                                 (safety.target_name(db),)).fetchone()
        return row is not None and row[0] == -2
    finally:
        server.close()


def _is_on_its_database(own: pw.Database) -> bool:
    """The server's answer: is `own` (a connected server database) on the
    database it names?"""
    return bool(own.execute_sql(_CURRENT_DATABASE[safety.backend_of(own)]).fetchone()[0] == safety.target_name(own))


def _may_drop(db: pw.Database, own: pw.Database) -> bool:
    """True when the server database `db` names (`own`: a connection to it)
    is this process's to drop: it says (in its marker) that the library
    created it, or holds no table at all, and this process holds its run
    lock or takes it now (a database another live run uses is kept)."""
    name = safety.target_name(db)
    if not _is_on_its_database(own):  # own is plain_connection(db): the same name
        return False
    if not run_lock.holds(db):
        if not run_lock.try_lock(own, name):
            return False
        run_lock.end_gone_sessions(own, name)  # on MySQL they would block the DROP
    tables = _user_tables(own)
    if not tables:
        return True
    return MARKER_TABLE in tables and _read_marker(own)["created"]


def _drop_tables(db: pw.Database, tables: list[str]) -> None:
    present = set(_user_tables(db))
    dropping = [t for t in tables if t in present]
    if not dropping:
        return
    is_mysql = safety.backend_of(db) == "mysql"
    cascade = " CASCADE" if safety.backend_of(db) == "postgres" else ""
    if is_mysql:
        db.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
    for name in dropping:
        db.execute_sql(f"DROP TABLE IF EXISTS {quote_table(db, name)}{cascade}")
    if is_mysql:
        db.execute_sql("SET FOREIGN_KEY_CHECKS = 1")


def _quote(db: pw.Database, name: str) -> str:
    return names.quote_identifier(db, name)


def quote_table(db: pw.Database, name: str) -> str:
    """A table name as the library lists it (see ``safety.listed_table``),
    quoted for `db`'s SQL. On MySQL it is qualified with the database
    claimed (``test_db.table``): a test that sent ``USE other`` cannot
    turn the library's statements on that other database."""
    backend = safety.backend_of(db)
    quoted = names.quote_table(db, name, postgres=backend == "postgres")
    return f"{_quote(db, claimed_name(db))}.{quoted}" if backend == "mysql" else quoted


def _worker_suffix() -> str:
    for name in WORKER_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            return value if not value.isdigit() else f"w{value}"
    return ""
