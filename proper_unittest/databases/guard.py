"""The connection guard: while a Proper test class runs (from its set-up to
its last class clean-up) and while the exit hook removes what the library
made, every peewee database in the process may open a connection only to
a database this run has proven to be a test database it owns or adopted.

It wraps ``peewee.Database.connect`` once, process-wide, so every Database
object goes through it: the app's, a model's, a proxy initialized late,
``bind``/``bind_ctx`` targets, a second app's, one made inside a test. A
refused connection raises :class:`UnsafeDatabaseError` before the driver
is called; a driver that is not installed raises :class:`MissingDriverError`
(drivers.py) instead of peewee's bare error. After a connection opens, the
server (or SQLite) is asked what was really opened, and that must be what
was checked (for SQLite: every database the connection has attached too).

Every statement's connection is covered, not only the ones opened while
armed: ``peewee.Database.cursor`` (and every subclass's own ``cursor``),
where each peewee statement and the library's ``library_sql`` get their
cursor, refuses while armed a connection the guard has not checked (one
opened before, at import say) unless its Database is proven; a checked
connection is remembered on its peewee state, so a statement pays one
identity test. ``SqliteDatabase.attach`` of a file that is not a test
file is refused while armed. A model's table with a ``Meta.schema`` is
checked each time it is turned into SQL while armed: on MySQL/MariaDB a
schema that is not the test database itself is another database.

Proven, by :func:`prove`: the databases the library claimed (see
``provision``), matched by what they physically are (server, port and
database name; a SQLite file's real path), so another Database object on
the same test database may connect too. SQLite in-memory databases are
private to their connection and always allowed. The library's own
provisioning (creating and dropping databases from the server's
maintenance database) runs inside :func:`provisioning`.
"""
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import peewee as pw

from proper_unittest.databases import driver_guard, safety
from proper_unittest.databases.drivers import is_missing_driver, missing_driver_error
from proper_unittest.isolation.outlived import refuse_if_outlived
from proper_unittest.errors import UnsafeDatabaseError

# Physical keys (see physical_key) of the databases this run proved, and
# the Database objects the library claimed for them.
_proven: set[tuple[object, ...]] = set()
_claimed: dict[int, pw.Database] = {}
# How many guarded scopes (test classes, the exit hook) are open.
_armed = 0
# The keys the innermost test class may use (None: every proven one).
_limits: list[set[tuple[object, ...]] | None] = []
# What runs now, for messages: a test id, a class's set-up, the exit hook.
_running: list[str] = []
_local = threading.local()  # .provisioning: depth of provisioning() on this thread
_original_connect: Callable[..., bool] | None = None
# The peewee state attribute naming the driver connection the guard checked.
_CHECKED = "proper_unittest_checked"
# Every Database that has asked to connect in this process (see open_connections).
_connecting: "weakref.WeakSet[pw.Database]" = weakref.WeakSet()


def physical_key(db: pw.Database) -> tuple[object, ...]:
    """What `db` connects to: ("sqlite", real path) for a SQLite file,
    (backend, host, port, database name) for a server database."""
    if isinstance(db, pw.SqliteDatabase):
        return ("sqlite", os.path.realpath(safety.sqlite_path(db)))
    params = db.connect_params
    return (safety.backend_of(db), params.get("host"), params.get("port"), safety.target_name(db))


def prove(db: pw.Database) -> None:
    """Record that `db` is a test database this run owns or adopted."""
    if safety.is_in_memory(db):  # allowed anyway; its "path" is no file's
        return
    _proven.add(physical_key(db))
    _claimed[id(db)] = db


def is_proven(db: pw.Database) -> bool:
    """True when `db` may be connected to now: in memory, or proven and,
    inside a test class, one of the class's databases."""
    if safety.is_in_memory(db):
        return True
    key = physical_key(db)
    limit = _limits[-1] if _limits else None
    return key in _proven and (limit is None or key in limit)


def limit_to(databases: Iterable[pw.Database]) -> None:
    """Let the innermost guarded scope (a test class) connect only to
    `databases` (its own, proven). This thread's idle connections to the
    other proven databases are closed, so that a test writing to another
    app's test database has to connect, and is refused, instead of
    writing outside its transaction unnoticed."""
    allowed = {physical_key(db) for db in databases}
    _limits[-1] = allowed
    for db in list(_claimed.values()):
        if safety.is_in_memory(db) or physical_key(db) in allowed or db.is_closed():
            continue
        if not db.in_transaction():  # an enclosing class's transaction stays open
            db.close()


def install() -> None:
    """Wrap ``peewee.Database.connect`` (once per process)."""
    global _original_connect
    if _original_connect is not None:
        return
    original = pw.Database.connect
    _original_connect = original

    def open_connection(db: pw.Database, reuse_if_open: bool) -> bool:
        try:
            with driver_guard.peewee_connecting():  # checked here, not again by the driver's guard
                return original(db, reuse_if_open)
        except pw.ImproperlyConfigured as error:
            if not is_missing_driver(error):
                raise
            raise missing_driver_error(db, error) from None

    def connect(self: pw.Database, reuse_if_open: bool = False) -> bool:
        # Channel code that outlived its test: a connection of its own would
        # write outside every test's transaction.
        refuse_if_outlived("Connecting {} {!r}", type(self).__name__, self.database)
        _connecting.add(self)
        if not self.is_closed() or self.deferred:
            return open_connection(self, reuse_if_open)
        if _provisioning():  # the library's own: trusted for the connection's life
            opened = open_connection(self, reuse_if_open)
            _mark_checked(self)
            if isinstance(self, pw.SqliteDatabase):  # the app's, once claimed: see _attach_authorizer
                _set_attach_authorizer(self)
            return opened
        if not _armed:
            return open_connection(self, reuse_if_open)
        if not is_proven(self):
            raise UnsafeDatabaseError(_refusal(self))
        opened = open_connection(self, reuse_if_open)
        if opened:
            _check_what_was_opened(self)
            _mark_checked(self)
        return opened

    connect.__doc__ = original.__doc__
    cast(Any, pw.Database).connect = connect
    _install_cursor_check(pw.Database)
    for cls in safety.all_subclasses(pw.Database):
        _install_cursor_check(cls)
    _install_subclass_hook()
    _install_attach_check()
    _install_schema_check()
    driver_guard.install(
        should_check=lambda: bool(_armed) and not _provisioning(),
        proven_names=_proven_names,
        running=_during,
    )


def _proven_names(backend: str) -> set[str]:
    """The names of the server databases this run proved on `backend`."""
    return {str(key[3]) for key in _proven if key[0] == backend and len(key) == 4}


def _during() -> str:
    """What runs now, for refusals: the test, the class set-up, or the run."""
    return _running[-1] if _running else "the test run"


def _mark_checked(db: pw.Database) -> None:
    """Remember that `db`'s connection (on this thread) was checked."""
    state: Any = cast(Any, db)._state
    setattr(state, _CHECKED, state.conn)


def _install_cursor_check(cls: type) -> None:
    """Wrap `cls`'s own ``cursor`` (if it defines one) with the check of
    the connection it runs on."""
    original = cls.__dict__.get("cursor")
    if original is None or getattr(original, "_proper_unittest_guarded", False):
        return

    def cursor(self: Any, commit: Any = None, named_cursor: Any = None) -> Any:
        if _armed:
            state = self._state
            conn = state.conn
            if conn is not None and getattr(state, _CHECKED, None) is not conn:
                _check_unchecked_connection(self)
        return original(self, commit, named_cursor)

    cursor.__doc__ = original.__doc__
    cast(Any, cursor).__wrapped__ = original  # bench/guard_cost.py times it without the check
    cast(Any, cursor)._proper_unittest_guarded = True
    setattr(cls, "cursor", cursor)


def _install_subclass_hook() -> None:
    """Database classes defined later (a playhouse module imported after
    the guard, an app's own class) get their ``cursor`` wrapped too."""
    database: Any = pw.Database
    previous = database.__dict__.get("__init_subclass__")

    def __init_subclass__(cls: Any, /, **kwargs: Any) -> None:  # noqa: N807 - the hook's name
        if previous is not None:
            previous.__func__(cls, **kwargs)
        else:
            super(database, cls).__init_subclass__(**kwargs)
        _install_cursor_check(cls)

    database.__init_subclass__ = classmethod(__init_subclass__)


def _check_unchecked_connection(db: pw.Database) -> None:
    """A statement is about to run on a connection the guard has not
    checked (opened before it was armed): allowed only to a proven
    database (for SQLite, with nothing but test files attached); then
    remembered as checked."""
    if _provisioning():
        return
    if not is_proven(db):
        raise UnsafeDatabaseError(_refusal(db, opened_before=True))
    if isinstance(db, pw.SqliteDatabase):
        attached = _unsafe_attachments(db)
        if attached:
            raise UnsafeDatabaseError(_attached_refusal(db, attached))
    _mark_checked(db)


def open_connections() -> list[str]:
    """Name the databases with a connection open on this thread (all of
    them: every connection is opened through the guard)."""
    return [f"{type(db).__name__} {db.database!r}" for db in list(_connecting) if not db.is_closed()]


@contextmanager
def guarding(what: str) -> Iterator[None]:
    """Arm the guard for a block (`what` runs in it: named in refusals)."""
    global _armed
    install()
    _armed += 1
    _running.append(what)
    _limits.append(None)
    try:
        yield
    finally:
        _armed -= 1
        _running.remove(what)
        _limits.pop()


class running:  # noqa: N801 - used as a context manager function: `with running(...)`
    """Name what runs in an armed block (a test), for refusals. A class,
    not a generator: every test enters one."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        _running.append(self.what)

    def __exit__(self, *exc_info: object) -> None:
        _running.remove(self.what)


@contextmanager
def provisioning() -> Iterator[None]:
    """Allow this thread's connections for the block: the library's own
    checking, creating and dropping of test databases (and the server's
    maintenance database it does that from)."""
    _local.provisioning = _provisioning() + 1
    try:
        yield
    finally:
        _local.provisioning -= 1


def _provisioning() -> int:
    depth: int = getattr(_local, "provisioning", 0)
    return depth


def _check_what_was_opened(db: pw.Database) -> None:
    """Ask what the new connection is really on; refuse (closing it) when
    that is not the database that was checked, or when (SQLite) it has a
    file attached that is not a test file."""
    actual = opened_database(db)
    if actual is None:
        return
    expected = _expected(db)
    if actual == expected:
        attached = _unsafe_attachments(db) if isinstance(db, pw.SqliteDatabase) else []
        if not attached:
            return
        db.close()
        raise UnsafeDatabaseError(_attached_refusal(db, attached))
    db.close()
    raise UnsafeDatabaseError(
        f"Refusing to use {type(db).__name__} {db.database!r}: it was checked as "
        f"{_show(expected)}, but the connection opened {_show(actual)}. Nothing was "
        "written. Check the connection options (a URI's parameters, a DSN, a service "
        "file, an option file) that change what is opened."
    )


def opened_database(db: pw.Database) -> str | None:
    """What `db`'s open connection is on, as the server says: the database
    name, or for SQLite the real path of the main file ("" in memory).
    None for a backend it cannot ask."""
    backend = safety.backend_of(db)
    conn: Any = cast(Any, db)._state.conn  # the driver's connection (untyped)
    cursor = conn.cursor()
    try:
        if backend == "sqlite":
            rows = cursor.execute("PRAGMA database_list").fetchall()
            path = next((row[2] for row in rows if row[1] == "main"), "") or ""
            return os.path.realpath(path) if path else ""
        query = {"postgres": "SELECT current_database()", "mysql": "SELECT DATABASE()"}.get(backend)
        if query is None:
            return None
        cursor.execute(query)
        return str(cursor.fetchone()[0])
    finally:
        cursor.close()


def _unsafe_attachments(db: pw.Database) -> list[tuple[str, str]]:
    """The databases (schema name, file) that `db`'s open SQLite
    connection has attached besides ``main`` and that are neither in
    memory nor test files (as ``PRAGMA database_list`` names them). The
    connection then refuses, while the guard is armed, a later ``ATTACH``
    statement of anything else (see _attach_authorizer)."""
    conn: Any = _set_attach_authorizer(db)
    rows = conn.execute("PRAGMA database_list").fetchall()
    return [
        (str(row[1]), str(row[2])) for row in rows
        if row[1] != "main" and row[2] and not safety.is_test_name(os.path.basename(row[2]))
    ]


def _set_attach_authorizer(db: pw.Database) -> Any:
    """Give `db`'s open SQLite connection the guard's authorizer; return
    the connection."""
    conn: Any = cast(Any, db)._state.conn
    conn.set_authorizer(_attach_authorizer(bool(db.connect_params.get("uri"))))
    return conn


def _attach_authorizer(uri: bool) -> Callable[[int, str | None, str | None, str | None, str | None], int]:
    """A SQLite authorizer denying, while the guard is armed, an ``ATTACH``
    whose file is not a test file or in memory (or is an expression it
    cannot read before it runs): SQLite then fails the statement with "not
    authorized", before anything is opened. Other statements pass; it runs
    only when SQLite prepares a statement (not for one it has cached)."""

    def authorize(action: int, filename: str | None, _arg2: str | None, _db: str | None,
                  _source: str | None) -> int:
        if action != _SQLITE_ATTACH or not _armed or _provisioning():
            return _SQLITE_OK
        if filename is None or safety.why_not_a_test_file(filename, uri):
            return _SQLITE_DENY
        return _SQLITE_OK

    return authorize


_SQLITE_ATTACH, _SQLITE_OK, _SQLITE_DENY = sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_OK, sqlite3.SQLITE_DENY


def _attached_refusal(db: pw.Database, attached: list[tuple[str, str]]) -> str:
    during = _during()
    files = ", ".join(f"{path!r} (as {name!r})" for name, path in attached)
    return (
        f"Refusing to use SqliteDatabase {db.database!r} during {during}: its connection has "
        f"{files} attached, which is not a test file (a file whose name has 'test' as a whole "
        "word) or an in-memory database. Nothing was sent to it. Attach only test files."
    )


def _install_attach_check() -> None:
    """Wrap ``SqliteDatabase.attach``: while armed, a file that is not a
    test file (the name rule of safety.py, read as SQLite reads it) or an
    in-memory database is refused, before peewee records or runs ATTACH."""
    original: Any = pw.SqliteDatabase.attach  # untyped in types-peewee

    def attach(self: pw.SqliteDatabase, filename: str, name: str) -> bool:
        if _armed and not _provisioning():
            problem = safety.why_not_a_test_file(str(filename), bool(self.connect_params.get("uri")))
            if problem:
                during = _during()
                raise UnsafeDatabaseError(
                    f"Refusing to attach {filename!r} as {name!r} to SqliteDatabase "
                    f"{self.database!r} during {during}: {problem}. Nothing was attached. "
                    "Attach only test files or in-memory databases."
                )
        attached: bool = original(self, filename, name)
        return attached

    attach.__doc__ = original.__doc__
    cast(Any, pw.SqliteDatabase).attach = attach


class _SchemaTable(pw.Table):
    """The table of a model with a ``Meta.schema``: checked each time it
    is turned into SQL while the guard is armed (see _check_schema), until
    it passed for the database the model is bound to now."""

    _passed_for: object = None

    def __sql__(self, ctx: Any) -> Any:
        table: Any = self  # untyped in types-peewee (no cast: this runs for every column)
        if _armed:
            model = table._model
            db = model._meta.database if model is not None else None
            if isinstance(db, pw.Proxy):
                db = db.obj
            if db is not table._passed_for:
                _check_schema(model, table._schema)
                if not _provisioning():
                    table._passed_for = db
        return _table_sql(table, ctx)


_table_sql: Any = cast(Any, pw.Table).__sql__


def _check_schema(model: Any, schema: str | None) -> None:
    """Refuse, while armed, SQL naming `model`'s table in `schema` when
    that is, on MySQL/MariaDB, another database of the server than the
    one the model is bound to."""
    if model is None or not schema or _provisioning():
        return
    db = safety.bound_database(model)
    if db is None or safety.backend_of(db) != "mysql" or schema == safety.target_name(db):
        return
    during = _during()
    raise UnsafeDatabaseError(
        f"Refusing to run SQL on model {model.__module__}.{model.__qualname__} during {during}: "
        f"it has Meta.schema = {schema!r}, which on MySQL/MariaDB is another database of the "
        f"server, not the test database {safety.target_name(db)!r}. Nothing was sent to it. "
        "Give the model its own Database bound to a test database instead of a schema, or "
        "leave Meta.schema unset when APP_ENV=test."
    )


def _install_schema_check() -> None:
    """Every model table with a schema becomes a _SchemaTable (those built
    already and those built later by ``Metadata.table``), and a model's
    ``Metadata.entity`` (an alias's FROM, DDL) is checked the same way.
    Tables without a schema are left alone: they pay nothing."""
    metadata: Any = pw.Metadata
    table_property: property = metadata.__dict__["table"]
    entity_property: property = metadata.__dict__["entity"]
    build = table_property.fget
    entity = entity_property.fget
    assert build is not None and entity is not None

    def table(self: Any) -> Any:
        built = self._table
        if built is None:
            built = build(self)
            if built._schema and type(built) is pw.Table:
                built.__class__ = _SchemaTable
        return built

    def guarded_entity(self: Any) -> Any:
        if _armed and self._schema:
            _check_schema(self.model, self._schema)
        return entity(self)

    table.__wrapped__ = build  # type: ignore[attr-defined]  # bench/guard_cost.py
    metadata.table = property(table, table_property.fset, table_property.fdel)
    metadata.entity = property(guarded_entity)
    for model in safety.all_model_classes():
        built = safety.model_meta(model).__dict__.get("_table")
        if built is not None and built._schema and type(built) is pw.Table:
            built.__class__ = _SchemaTable


def _expected(db: pw.Database) -> str:
    if isinstance(db, pw.SqliteDatabase):
        return "" if safety.is_in_memory(db) else os.path.realpath(safety.sqlite_path(db))
    return safety.target_name(db)


def _show(name: str) -> str:
    return "an in-memory database" if name == "" else repr(name)


def _refusal(db: pw.Database, opened_before: bool = False) -> str:
    models = [
        f"{m.__module__}.{m.__qualname__}" for m in safety.all_model_classes()
        if safety.bound_database(m) is db
    ]
    bound = f" (bound to model {', '.join(models[:3])})" if models else ""
    during = _during()
    name = safety.sqlite_path(db) if isinstance(db, pw.SqliteDatabase) else safety.target_name(db)
    if physical_key(db) in _proven:
        why = ("it is a test database of this run, but not one of this test class's, so "
               "writes to it would escape the class's transaction.")
    else:
        why = ("this run has not checked that it is a test database (only the databases "
               "of the app under test and of the models bound when its class set up are).")
    if opened_before:
        return (
            f"Refusing to use {type(db).__name__} {name!r}{bound} during {during}: its "
            f"connection was opened before the test class set up, unchecked, and {why} "
            "Nothing was sent to it. Do not connect at import; configure it (in the app's "
            "DATABASES, or bind the model at import) pointing at a test database."
        )
    return (
        f"Refusing to connect {type(db).__name__} {name!r}{bound} during {during}: "
        f"{why} Nothing was sent to it. Configure it before the test class sets up (in "
        "the app's DATABASES, or bind the model or initialize the proxy at import), "
        "pointing at a test database; the class set-up then checks it and runs the "
        "tests in its transaction."
    )
