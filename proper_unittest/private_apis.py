"""Every private API of peewee, Proper, asyncio and warnings that the
library uses, listed in :data:`RELIED_ON` (tests/test_private_apis.py
checks each one still exists, and the ones this module wraps behave as
relied on).

Used where their job is done:

- peewee ``Metadata._table`` and the ``table`` and ``entity`` properties
  (``databases.guard``: a model table with a schema is checked as SQL is
  made from it).
- Proper ``App._on_teardown`` (``testcase``: the upload-closing hook is
  added once), ``Mailers._instances`` (``isolation.app_state``: every
  mailer's outbox is emptied), ``proper.storage._Attachment`` and an
  Attachment class's ``_services``, ``_default_service_name`` and
  ``_get_service`` (``isolation.storage_roots``, ``assertions.storage``:
  the Disk services tests use, at the run's folders).
- asyncio ``Task._log_traceback`` (``isolation.lost_async``: whether a
  task's exception was retrieved, and marking it so).
- ``warnings._filters_mutated`` (``isolation.process_settings``: the
  filters put back take effect).

Used through this module's functions:

- peewee ``Database._state`` (a ``threading.local`` per database) and
  ``peewee._ConnectionState``: replaced by one shared state so the live
  server's thread uses the test thread's connection and transaction stack.
- Proper ``App._with_db``: the one entry point both HTTP requests and
  channel actions go through to reach the database.
- asyncio ``_get_running_loop`` / ``_set_running_loop``: Playwright's sync
  API leaves its loop marked as running on the test's thread.
- asyncio ``BaseEventLoop._asyncgens``, ``_default_executor`` and
  ``_ready``: whether a test's loop has anything to shut down or run before
  it is closed (the synchronous client's loop, ``client.event_loop``); if
  they are gone, the loop is always shut down.
- asyncio ``BaseEventLoop._scheduled``, ``BaseSelectorEventLoop._selector``
  and ``_UnixSelectorEventLoop._signal_handlers``: whether a test's loop
  is as a new one is, so the next test may use it (``client.event_loop``);
  if they are gone, no loop is used twice.
"""
import asyncio
from collections.abc import Callable
from typing import Any, cast

import peewee as pw

#: The private names this module relies on, by owner (for the check test).
RELIED_ON = {
    "peewee": ("_ConnectionState", "Database._state", "Metadata._table", "Metadata.table", "Metadata.entity"),
    "proper": ("App._with_db", "App._on_teardown", "Mailers._instances", "Attachment._services",
               "Attachment._default_service_name", "Attachment._get_service"),
    "proper.storage": ("_Attachment",),
    "warnings": ("_filters_mutated",),
    "asyncio": ("_get_running_loop", "_set_running_loop",
                "BaseEventLoop._asyncgens", "BaseEventLoop._default_executor", "BaseEventLoop._ready",
                "BaseEventLoop._scheduled", "BaseSelectorEventLoop._selector",
                "_UnixSelectorEventLoop._signal_handlers", "Task._log_traceback"),
}


def share_connection_state(db: pw.Database) -> Callable[[], None]:
    """Make every thread use the calling thread's connection and
    transaction stack of `db`; returns the undo, which gives the calling
    thread's own state back whatever the shared one holds by then."""
    database = cast(Any, db)
    local = database._state
    shared = cast(Any, pw)._ConnectionState()
    shared.conn, shared.closed = local.conn, local.closed
    shared.ctx, shared.transactions = local.ctx, local.transactions
    database._state = shared

    def undo() -> None:
        local.conn, local.closed = shared.conn, shared.closed
        local.ctx, local.transactions = shared.ctx, shared.transactions
        database._state = local

    return undo


def wrap_database_entry(app: Any, wrapper: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Callable[[], None]:
    """Replace ``app._with_db`` (on the instance) with ``wrapper(original)``;
    returns the undo."""
    before = vars(app).get("_with_db")  # an instance wrapper to put back, if any
    app._with_db = wrapper(app._with_db)

    def undo() -> None:
        if before is None:
            vars(app).pop("_with_db", None)
        else:
            app._with_db = before

    return undo


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop marked as running on this thread (None if none), without
    raising as ``asyncio.get_running_loop`` does."""
    return cast(Any, asyncio)._get_running_loop()  # type: ignore[no-any-return]


def set_running_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """Mark `loop` (or none) as the loop running on this thread."""
    cast(Any, asyncio)._set_running_loop(loop)


def has_shutdown_work(loop: asyncio.AbstractEventLoop) -> bool:
    """True unless `loop` surely has no asynchronous generator and no
    default executor to shut down, and no callback ready to run (which
    ``asyncio.run``'s shut-down would still run); True when it cannot tell."""
    asyncgens = getattr(loop, "_asyncgens", None)
    ready = getattr(loop, "_ready", None)
    executor = getattr(loop, "_default_executor", _UNKNOWN)
    return asyncgens is None or bool(asyncgens) or ready is None or bool(ready) or executor is not None


def is_as_new(loop: asyncio.AbstractEventLoop, debug: bool) -> bool:
    """True when `loop` (not running, not closed) surely holds nothing a
    new loop would not: no callback ready or scheduled, no task, no file
    descriptor watched but its own wake-up pipe, no signal handler, nothing
    to shut down, and the default task factory, exception handler, `debug`
    setting and slow-callback duration; False when it cannot tell."""
    scheduled = getattr(loop, "_scheduled", None)
    selector = getattr(loop, "_selector", None)
    signal_handlers = getattr(loop, "_signal_handlers", None)
    if scheduled is None or selector is None or signal_handlers is None:
        return False
    return (
        not scheduled and not signal_handlers and len(selector.get_map()) == 1
        and not has_shutdown_work(loop) and not loop.is_running() and not loop.is_closed()
        and loop.get_task_factory() is None and loop.get_exception_handler() is None
        and loop.get_debug() is debug and cast(Any, loop).slow_callback_duration == _SLOW_CALLBACK
        and not asyncio.all_tasks(loop)
    )


_UNKNOWN = object()
# A new loop's slow_callback_duration.
_SLOW_CALLBACK = 0.1
