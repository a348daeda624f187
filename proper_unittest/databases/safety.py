"""Refuses to run against anything but a test environment and test databases.

The rules here read configuration only: they run before any connection,
DDL or query, so when one fails nothing has been touched. What a database
already holds is checked later, on connecting (see ``provision``).

The name rule: "test", "tests" or "testing" must be a whole word of the
name the driver will connect to, words being split on ``_``, ``-`` and
``.``, and the name may hold only letters, digits, ``_``, ``-`` and ``.``
(see ``names``). For SQLite only the file's name counts, read as SQLite
reads it (see ``sqlite_names``); in-memory databases pass.
"""
import os
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any, TypeVar, cast

import peewee as pw

from proper_unittest.databases import names, sqlite_names
from proper_unittest.databases.names import TEST_WORDS as TEST_WORDS
from proper_unittest.errors import UnsafeDatabaseError

_T = TypeVar("_T")
# A server database name holding one of these is a URL or a DSN, whose
# real target a name check cannot vouch for.
_NOT_A_PLAIN_NAME = ("://", "?", "=", "/", " ")
# connect_params keys that override the database name peewee passes on.
_NAME_OVERRIDES = {
    "postgres": ("dbname", "database"),
    "mysql": ("database", "db"),
}


def is_test_name(name: str) -> bool:
    """True when "test", "tests" or "testing" is a whole word of `name`."""
    return bool(names.test_words(name))


def backend_of(db: pw.Database) -> str:
    """"sqlite", "postgres", "mysql" or "other" (unknown driver)."""
    if isinstance(db, pw.SqliteDatabase):
        return "sqlite"
    if isinstance(db, pw.PostgresqlDatabase) or "postgres" in type(db).__name__.lower():
        return "postgres"
    if isinstance(db, pw.MySQLDatabase) or "mysql" in type(db).__name__.lower():
        return "mysql"
    return "other"


def name_override_key(db: pw.Database) -> str | None:
    """The ``connect_params`` key whose value the driver uses as the
    database name instead of ``db.database``, if one is set."""
    for key in _NAME_OVERRIDES.get(backend_of(db), ()):
        if db.connect_params.get(key):
            return key
    return None


def target_name(db: pw.Database) -> str:
    """The database name the driver will really connect to."""
    key = name_override_key(db)
    return str(db.connect_params[key] if key else (db.database or ""))


def is_in_memory(db: pw.Database) -> bool:
    """True for a SQLite database that lives in memory only."""
    return isinstance(db, pw.SqliteDatabase) and sqlite_names.connection_name(db).in_memory


def sqlite_path(db: pw.Database) -> str:
    """The path of the file a SQLite database opens (a URI read as SQLite
    reads it; "" when in memory or unreadable)."""
    return sqlite_names.connection_name(db).path


def why_not_a_test_database(db: pw.Database) -> str | None:
    """Why `db` may not be used for tests, or None when it may."""
    if db.deferred or db.database is None:
        return "it is not initialized (no database name)"
    if isinstance(db, pw.SqliteDatabase):
        return _why_not_a_test_file(db)
    name = target_name(db)
    key = name_override_key(db)
    where = f"connect_params[{key!r}] = {name!r}" if key else f"its name {name!r}"
    if any(mark in name for mark in _NOT_A_PLAIN_NAME):
        return (f"{where} is a URL or a DSN, not a database name: configure a URL "
                "through playhouse.db_url (Proper's DATABASES accepts "
                "{'url': ...} or database_from_url), or give the bare database name")
    if not is_test_name(name):
        return f"{where} does not have 'test' as a whole word"
    return names.why_not_a_safe_name(name) or names.why_too_long(name, backend_of(db))


def _why_not_a_test_file(db: pw.Database) -> str | None:
    return why_not_a_test_file(str(db.database or ""), bool(db.connect_params.get("uri")))


def why_not_a_test_file(name: str, uri: bool) -> str | None:
    """Why SQLite name `name` (a connection's, or one given to ATTACH on a
    connection whose ``uri`` option is `uri`) is not a test file or in
    memory, or None when it is."""
    read = sqlite_names.read_name(name, uri)
    if read.problem:
        return f"its URI {name!r} cannot be read for sure: {read.problem}"
    if read.in_memory:
        return None
    if "://" in name:
        return ("its name is a URL, not a file name: open it with "
                "playhouse.db_url.connect(url), or give the file's path")
    filename = PurePath(read.path).name
    if not is_test_name(filename):
        return (f"its file name {filename!r} does not have 'test' as a whole word "
                "(only the file's name counts, not its folder)")
    return names.why_not_a_safe_name(filename)


def check_test_environment(app: Any) -> None:
    """Fail unless both the process and the app were set up with APP_ENV=test."""
    env_var = os.environ.get("APP_ENV")
    if env_var == "test" and app.env == "test":
        return
    if env_var == "test":
        # APP_ENV is right now, so it was set after the app was built: the
        # app's package was imported first (a bare `python -m unittest` in
        # the project folder imports it while looking for tests, before
        # tests/__init__.py runs).
        raise UnsafeDatabaseError(
            f"Refusing to run tests: the app was configured with APP_ENV={app.env!r}, before "
            "APP_ENV was set to 'test' (its package was most likely imported first). With plain unittest, "
            "point discovery at the tests folder: `python -m unittest discover -s tests -t .` "
            "(a bare `python -m unittest` imports the app package while looking for tests, "
            "before tests/__init__.py runs); or `export APP_ENV=test`; or run "
            "`python -m proper_unittest`. No database was touched."
        )
    raise UnsafeDatabaseError(
        f"Refusing to run tests: APP_ENV is {env_var!r} and the app was configured "
        f"with APP_ENV={app.env!r}; both must be 'test'. Set APP_ENV=test before "
        "the app is imported (`python -m proper_unittest` does it; with unittest or "
        "pytest, `export APP_ENV=test` or set it in tests/__init__.py). "
        "No database was touched."
    )


def check_test_databases(databases: dict[str, pw.Database]) -> None:
    """Fail unless every database passes the name rule (see the module doc).

    `databases` maps a description of where each one comes from (a
    ``DATABASES`` key, or a model) to the database."""
    for where, db in databases.items():
        problem = why_not_a_test_database(db)
        if problem:
            raise UnsafeDatabaseError(
                f"Refusing to run tests on {_describe(where)} = {db.database!r} "
                f"({type(db).__name__}): {problem}. Point it at a test database when "
                "APP_ENV=test: 'test' must be a whole word of the name, split on "
                "'_', '-' and '.' (for example 'myapp_test', 'test_myapp', "
                "'myapp-tests', or ':memory:' for SQLite). No database was touched."
            )


def test_databases(app: Any, models: list[type[pw.Model]] | None = None) -> dict[str, pw.Database]:
    """Every database tests of `app` may write to, keyed by where it comes
    from: the app's ``DATABASES`` and the databases any model (of
    `models`, by default every one) is bound to."""
    found: dict[str, pw.Database] = {}
    for name, db in app.db.items():
        if isinstance(db, pw.Database):
            found[name] = db
    known = {id(db) for db in found.values()}
    for model in all_model_classes() if models is None else models:
        db = bound_database(model)
        if db is None or id(db) in known or id(db) in _other_apps_databases(app):
            continue
        if is_in_memory(db):  # private to its connection: nothing to protect
            continue
        known.add(id(db))
        found[f"model {model.__module__}.{model.__qualname__}"] = db
    return found


def check_app(app: Any) -> dict[str, pw.Database]:
    """Run every configuration check for testing `app`; return its test
    databases (see :func:`test_databases`). Touches no database."""
    check_test_environment(app)
    models = all_model_classes()  # once for both walks: every test class's set-up comes here
    databases = test_databases(app, models)
    check_test_databases(databases)
    check_schemas(databases.values(), models)
    return databases


def check_schemas(databases: Iterable[pw.Database], models: list[type[pw.Model]] | None = None) -> None:
    """Fail when a model bound to one of `databases` has a ``Meta.schema``
    the library cannot keep inside the test database. On MySQL/MariaDB a
    schema is another database of the server, outside the test database
    and its checks: refused unless it is the test database itself. On
    PostgreSQL a schema lives inside the test database, where the library
    creates it: its name may hold only letters, digits, '_' and '-'."""
    checked = {id(db) for db in databases}
    for model in all_model_classes() if models is None else models:
        schema = model_meta(model).schema
        if not schema:
            continue
        db = bound_database(model)
        if db is None or id(db) not in checked:
            continue
        if backend_of(db) == "postgres":
            _check_postgres_schema(model, schema)
        elif backend_of(db) == "mysql" and schema != target_name(db):
            _refuse_mysql_schema(model, schema, db)


def _check_postgres_schema(model: type[pw.Model], schema: str) -> None:
    if names.SAFE_SCHEMA.fullmatch(schema):
        return
    raise UnsafeDatabaseError(
        f"Refusing to run tests: model {model.__module__}.{model.__qualname__} has "
        f"Meta.schema = {schema!r}; the library creates a model's schema inside the test "
        f"database, and a schema it creates may hold only {names.SAFE_SCHEMA_CHARACTERS}. "
        "Rename the schema. No database was touched."
    )


def _refuse_mysql_schema(model: type[pw.Model], schema: str, db: pw.Database) -> None:
    raise UnsafeDatabaseError(
        f"Refusing to run tests: model {model.__module__}.{model.__qualname__} has "
        f"Meta.schema = {schema!r}, which on MySQL/MariaDB is another database of the "
        f"server, not the test database {target_name(db)!r}; its rows would be written "
        "there, outside the checks and the test transaction. Give the model its own "
        "Database bound to a test database instead of a schema, or leave Meta.schema "
        "unset when APP_ENV=test. No database was touched."
    )


def remember_app(app: Any) -> None:
    """Note that `app` is under test in this process, so that models bound
    to its databases are not taken for another app's outside databases."""
    _apps_under_test[id(app)] = app


def all_model_classes() -> list[type[pw.Model]]:
    """Every subclass of ``peewee.Model`` defined so far, direct or not."""
    return all_subclasses(pw.Model)


def all_subclasses(cls: type[_T]) -> list[type[_T]]:
    """Every subclass of `cls` defined so far, direct or not, nearest first."""
    seen: dict[type[_T], None] = {}
    pending = list(cls.__subclasses__())
    while pending:
        sub = pending.pop(0)
        if sub not in seen:
            seen[sub] = None
            pending.extend(sub.__subclasses__())
    return list(seen)


_apps_under_test: dict[int, Any] = {}


def _other_apps_databases(app: Any) -> set[int]:
    return {
        id(db)
        for other in _apps_under_test.values() if other is not app
        for db in other.db.values()
    }


def bound_database(model: type[pw.Model]) -> pw.Database | None:
    """The initialized database `model` is bound to (through a proxy too)."""
    db = model_meta(model).database
    if isinstance(db, pw.DatabaseProxy):
        db = db.obj
    if not isinstance(db, pw.Database) or db.deferred:
        return None
    return db


def model_meta(model: type[pw.Model]) -> pw.Metadata:
    """``model._meta``, which types-peewee does not declare."""
    meta: pw.Metadata = cast(Any, model)._meta
    return meta


def table_name(model: type[pw.Model]) -> str:
    """The name of `model`'s table as the library lists it (see
    :func:`listed_table`): on PostgreSQL, qualified by its ``Meta.schema``."""
    meta = model_meta(model)
    db = bound_database(model)
    backend = backend_of(db) if db is not None else "other"
    return listed_table(meta.schema or "public", meta.table_name, backend)


def listed_table(schema: str, table: str, backend: str) -> str:
    """How the library lists a table (in its marker, and when it compares
    the models' tables with a database's): the bare name, or on PostgreSQL
    ``schema.table`` for a table outside ``public`` or one whose name holds
    a dot, so that the first dot always ends the schema (a schema the
    library creates holds none, see :func:`check_schemas`)."""
    if backend != "postgres" or (schema == "public" and "." not in table):
        return table
    return f"{schema}.{table}"


def _describe(where: str) -> str:
    return where if where.startswith("model ") else f"DATABASES[{where!r}]"
