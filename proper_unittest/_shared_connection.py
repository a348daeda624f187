"""One database connection shared by the test and the live server.

Rails' shared connection: the live server's thread uses the test thread's
connection, class transaction and test savepoint (see
``_private_apis.share_connection_state``), so the browser sees the rows
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
"""
import threading
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from functools import wraps
from typing import Any

import peewee as pw

from ._private_apis import share_connection_state, wrap_database_entry
from .databases import recover_aborted_transactions

#: The Database methods the test thread calls under the lock.
_LOCKED_METHODS = ("execute_sql", "push_transaction", "pop_transaction", "begin", "commit", "rollback")


class SharedConnection:
    """Shares `databases`' connections of the calling thread with every
    thread, and locks `app`'s requests against the test's statements,
    until :meth:`close`."""

    def __init__(self, app: Any, databases: Iterable[pw.Database]) -> None:
        self.app = app
        self.databases = list(databases)
        #: Held by the server per request, by the test thread per statement.
        self.lock = threading.RLock()
        self._undo = ExitStack()

    def open(self) -> "SharedConnection":
        """Share the connections and install the locks."""
        with ExitStack() as undo:
            for db in self.databases:
                undo.callback(share_connection_state(db))
                for name in _LOCKED_METHODS:
                    undo.callback(self._lock_method(db, name))
            undo.callback(wrap_database_entry(self.app, self._locked_entry))
            self._undo = undo.pop_all()
        return self

    def close(self) -> None:
        """Give each thread its own connection state back and remove the locks."""
        self._undo.close()

    def _lock_method(self, db: pw.Database, name: str) -> Callable[[], None]:
        original = getattr(db, name)
        lock = self.lock

        @wraps(original)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(*args, **kwargs)

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
            with lock, recover_aborted_transactions(databases):
                return original(work, on_error=on_error)

        return with_db
