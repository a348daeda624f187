"""One database connection shared by the test and the live server.

Rails' shared connection: the live server's thread uses the test thread's
connection, class transaction and test savepoint (see
``private_apis.share_connection_state``), so the browser sees the rows
the test made inside its uncommitted transaction, the test sees what the
browser submitted, and the library's ordinary rollback undoes both.

One re-entrant lock keeps the two threads from interleaving: the server
holds it for a whole request or channel action (``App._with_db``, the one
entry point of both), the test thread for each statement and each change
of the transaction stack, and for its own per-test set-up and rollback.
On PostgreSQL each server-side request also runs under the library's
recovery savepoint, as in-process requests do, so a failed request does
not leave the transaction aborted for the test.

Code the app runs in the server's thread outside ``_with_db`` (a plain
``asyncio.to_thread`` in a controller) also uses the shared connection, but
without the request's lock.

In-process channel tests use the same sharing, opened for one test by
``channels.workers`` when channel code first runs in a worker thread.
Channel code that outlived its test is refused here too (see ``isolation.outlived``).
"""
import threading
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from functools import wraps
from typing import Any

import peewee as pw

from proper_unittest.isolation.outlived import refuse_if_outlived
from proper_unittest.private_apis import share_connection_state, wrap_database_entry
from proper_unittest.databases.app import recover_aborted_transactions

#: The Database methods the test thread calls under the lock.
_LOCKED_METHODS = ("execute_sql", "push_transaction", "pop_transaction", "begin", "commit", "rollback")

# The sharing open for each app (by id), innermost last.
_open: dict[int, list["SharedConnection"]] = {}


def shared_for(app: object) -> "SharedConnection | None":
    """The sharing open now for `app`, if any."""
    opened = _open.get(id(app))
    return opened[-1] if opened else None


class SharedConnection:
    """Shares `databases`' connections of the calling thread with every
    thread, and locks `app`'s requests against the test's statements,
    until :meth:`close`."""

    def __init__(self, app: Any, databases: Iterable[pw.Database]) -> None:
        self.app = app
        self.databases = list(databases)
        #: Held by the server per request, by the test thread per statement.
        self.lock = threading.RLock()
        #: Threads inside (or entering) one of the locked methods now (ident: depth).
        self.in_statement: dict[int, int] = {}
        self._undo = ExitStack()

    def open(self) -> "SharedConnection":
        """Share the connections and install the locks."""
        with ExitStack() as undo:
            for db in self.databases:
                undo.callback(share_connection_state(db))
                for name in _LOCKED_METHODS:
                    undo.callback(self._lock_method(db, name))
            undo.callback(wrap_database_entry(self.app, self._locked_entry))
            opened = _open.setdefault(id(self.app), [])
            opened.append(self)
            undo.callback(self._forget, opened)
            self._undo = undo.pop_all()
        return self

    def close(self) -> None:
        """Give each thread its own connection state back and remove the locks."""
        self._undo.close()

    def _forget(self, opened: list["SharedConnection"]) -> None:
        opened.remove(self)
        if not opened:
            _open.pop(id(self.app), None)

    def _lock_method(self, db: pw.Database, name: str) -> Callable[[], None]:
        original = getattr(db, name)
        lock, in_statement = self.lock, self.in_statement

        @wraps(original)
        def locked(*args: Any, **kwargs: Any) -> Any:
            # Counted before the check: whoever refuses a thread and then
            # finds it not counted knows it will not start a call.
            thread = threading.get_ident()
            in_statement[thread] = in_statement.get(thread, 0) + 1
            try:
                refuse_if_outlived("A database call ({}) on {!r}", name, db.database)
                with lock:
                    return original(*args, **kwargs)
            finally:
                if in_statement[thread] == 1:
                    del in_statement[thread]
                else:
                    in_statement[thread] -= 1

        before = vars(db).get(name)  # an instance wrapper to put back, if any
        setattr(db, name, locked)

        def undo() -> None:
            if before is None:
                vars(db).pop(name, None)
            else:
                setattr(db, name, before)

        return undo

    def _locked_entry(self, original: Callable[..., Any]) -> Callable[..., Any]:
        lock, databases = self.lock, self.databases

        @wraps(original)
        def with_db(work: Callable[[], Any], *, on_error: Callable[[Exception], Any] | None = None) -> Any:
            refuse_if_outlived("Using the database (App._with_db)")
            with lock, recover_aborted_transactions(databases):
                return original(work, on_error=on_error)

        return with_db
