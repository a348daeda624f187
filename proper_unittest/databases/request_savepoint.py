"""The savepoint a request runs under on PostgreSQL, sent in the same
round trip as the request's first statement when the driver is psycopg2.

``app.recover_aborted_transactions`` needs a savepoint at the start of
each request (and of each assertRaises block, and of each piece of channel
code) so that a failed statement does not leave the test's transaction
aborted. Sent on its own, that is one more round trip to the server per
request, which on a test of two requests costs more than everything else
the library does around it. psycopg2 sends a query with its parameters
already in it, so ``SAVEPOINT name; <statement>`` is one round trip, run
in order: the savepoint exists when the statement starts, whether the
statement then succeeds or fails.

While a request is pending, the connection's ``cursor_factory`` is a
subclass of the one it had, whose first ``execute`` puts the savepoint in
front of its statement and puts the factory back. Whatever cannot carry
it (a named cursor, ``executemany``, ``callproc``, ``copy_*``, a query of
an unknown type) sends the savepoint on its own first. A request that
runs no statement sends none. A cursor made before the request and used in
it (peewee makes one per statement; only code that keeps a raw cursor
does this) sends its statements without the savepoint: if one of them
fails, the transaction stays aborted, as it would without this library.
"""
import functools
from collections.abc import Callable
from typing import Any

_pg2: Any
_pg2_sql: Any
try:  # no stubs installed: both are Any
    from psycopg2 import extensions as _pg2  # type: ignore[import-untyped,no-redef]
    from psycopg2 import sql as _pg2_sql  # type: ignore[no-redef]
except ImportError:  # pragma: no cover - psycopg2 is optional
    _pg2 = None
    _pg2_sql = None

# psycopg2's TRANSACTION_STATUS_INTRANS: in a transaction that can go on.
_IN_TRANSACTION = 2

# The savepoint each connection still owes its pending request, by id().
_pending: dict[int, "PendingSavepoint"] = {}
# The cursor class that sends it, per cursor factory it stands in for.
_cursor_classes: dict[type, type] = {}


def can_defer(connection: Any) -> bool:
    """True when the savepoint can go with `connection`'s next statement
    (a psycopg2 connection: it sends every query as one string)."""
    return _pg2 is not None and isinstance(connection, _pg2.connection)


class PendingSavepoint:
    """``SAVEPOINT name``, sent with the next statement on `connection`
    (see the module doc). :meth:`finish` ends the wait and says whether it
    was sent."""

    def __init__(self, connection: Any, name: str) -> None:
        self.connection = connection
        self.sql = f"SAVEPOINT {name}"
        self.sent = False
        earlier = _take(connection)
        if earlier is not None:  # a pending block inside another: the outer one's goes first
            earlier.send_alone()
        self.factory = connection.cursor_factory
        connection.cursor_factory = _cursor_class(self.factory or _pg2.cursor)
        _pending[id(connection)] = self

    def finish(self) -> bool:
        """Stop waiting for a statement; True when the savepoint was sent."""
        if _pending.get(id(self.connection)) is self:
            _take(self.connection)
        return self.sent

    def send_alone(self) -> None:
        """Send the savepoint now, in a round trip of its own (once taken
        off its connection: see :func:`_take`)."""
        if self.connection.info.transaction_status == _IN_TRANSACTION:
            with self.connection.cursor() as cursor:  # the factory it had
                cursor.execute(self.sql)
            self.sent = True

    def prefix(self, query: Any) -> Any:
        """`query` with the savepoint in front, or None for a query it
        cannot go in front of (then :meth:`send_alone`)."""
        if self.connection.info.transaction_status != _IN_TRANSACTION:
            return query  # outside a transaction, or aborted: nothing to save
        if isinstance(query, str):
            combined: Any = f"{self.sql}; {query}"
        elif isinstance(query, bytes):
            combined = self.sql.encode() + b"; " + query
        elif _pg2_sql is not None and isinstance(query, _pg2_sql.Composable):
            combined = _pg2_sql.Composed([_pg2_sql.SQL(self.sql + "; "), query])
        else:
            return None
        self.sent = True  # it runs first: it exists even if the statement fails
        return combined


def _take(connection: Any) -> PendingSavepoint | None:
    """The savepoint `connection` still owes, taken off it, with the
    connection's own cursor factory back in place (None if it owes none)."""
    pending = _pending.pop(id(connection), None)
    if pending is not None:
        connection.cursor_factory = pending.factory
    return pending


# Cursor methods that cannot carry the savepoint in their query: it goes alone first.
_SENDS_ALONE_FIRST = ("executemany", "callproc", "copy_expert", "copy_from", "copy_to")


def _cursor_class(factory: type) -> type:
    """The subclass of `factory` whose first statement carries the pending
    savepoint of its connection."""
    found = _cursor_classes.get(factory)
    if found is not None:
        return found

    class SavepointFirstCursor(factory):  # type: ignore[misc]  # a class made at run time
        def execute(self, query: Any, vars: Any = None) -> Any:
            pending = _take(self.connection)
            if pending is not None:
                if getattr(self, "name", None) is not None:  # a named cursor: DECLARE ... FOR query
                    pending.send_alone()
                else:
                    combined = pending.prefix(query)
                    if combined is None:
                        pending.send_alone()
                    else:
                        query = combined
            return super().execute(query, vars)

    for name in _SENDS_ALONE_FIRST:
        setattr(SavepointFirstCursor, name, _alone_first(getattr(factory, name)))
    SavepointFirstCursor.__qualname__ = SavepointFirstCursor.__name__ = f"SavepointFirst{factory.__name__}"
    _cursor_classes[factory] = SavepointFirstCursor
    return SavepointFirstCursor


def _alone_first(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` of a cursor, after sending its connection's pending savepoint alone."""
    @functools.wraps(method)
    def sends_alone_first(cursor: Any, *args: Any, **kwargs: Any) -> Any:
        pending = _take(cursor.connection)
        if pending is not None:
            pending.send_alone()
        return method(cursor, *args, **kwargs)
    return sends_alone_first
