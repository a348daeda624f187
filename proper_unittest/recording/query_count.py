"""Counting the queries peewee runs in a block (``assertNumQueries``).

peewee logs each query once, ``logger.debug((sql, params))`` in
``Database.execute_sql`` (``playhouse.apsw_ext`` too), through the module
global ``logger``. Counting through a log handler misses every query the
logging configuration silences (``logging.disable``, a disabled "peewee"
logger, a filter, a level). So for the block, every module global
``logger`` that is peewee's logger is replaced by a :class:`CountingLogger`
that notes the query and hands the call on to what was there: the queries
are counted whatever the logging configuration does with them.
"""
import logging
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PEEWEE_LOGGER_NAME = "peewee"


class CountingLogger:
    """Stands in for peewee's logger: notes each query passed to ``debug``
    and forwards every call and attribute to the logger it replaces."""

    def __init__(self, replaced: Any, queries: list[logging.LogRecord]) -> None:
        self._replaced = replaced
        self._queries = queries

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Note `msg` when it is a query (``(sql, params)``), then log it as before."""
        if isinstance(msg, tuple) and msg and isinstance(msg[0], str):
            self._queries.append(_query_record(msg))
        self._replaced.debug(msg, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._replaced, name)


class QueryCount:
    """What ``assertNumQueries`` yields, as playhouse's ``count_queries``
    did: ``get_queries()``, the log records of the queries (``record.msg``
    is ``(sql, params)``), and ``count``, their number, set when the block ends."""

    def __init__(self) -> None:
        self.queries: list[logging.LogRecord] = []
        self.count = 0

    def get_queries(self) -> list[logging.LogRecord]:
        """The queries run so far, as log records."""
        return self.queries


@contextmanager
def counting_queries() -> Iterator[QueryCount]:
    """Count every query peewee runs in the block, on any database and in
    any thread; blocks may nest (each counts its own)."""
    counter = QueryCount()
    replaced = _install(counter.queries)
    try:
        yield counter
    finally:
        _uninstall(replaced)
        counter.count = len(counter.queries)


def _install(queries: list[logging.LogRecord]) -> list[tuple[dict[str, Any], Any, CountingLogger]]:
    """Put a counting logger in place of peewee's in every module holding
    it as ``logger``; returns (namespace, what was there, what replaced it)."""
    replaced = []
    for namespace in _namespaces_holding_peewee_logger():
        previous = namespace["logger"]
        counting = CountingLogger(previous, queries)
        namespace["logger"] = counting
        replaced.append((namespace, previous, counting))
    return replaced


def _uninstall(replaced: list[tuple[dict[str, Any], Any, CountingLogger]]) -> None:
    """Put back what each namespace held, where our counting logger is still there."""
    for namespace, previous, counting in replaced:
        if namespace.get("logger") is counting:
            namespace["logger"] = previous


def _namespaces_holding_peewee_logger() -> list[dict[str, Any]]:
    """The globals of the loaded modules whose ``logger`` is peewee's logger,
    or the counting logger of an enclosing block."""
    peewee_logger = logging.getLogger(PEEWEE_LOGGER_NAME)
    found = []
    for module in list(sys.modules.values()):
        if not isinstance(module, types.ModuleType):
            continue
        # The module's own dict: getattr could run a module __getattr__.
        namespace = vars(module)
        held = namespace.get("logger")
        if held is peewee_logger or isinstance(held, CountingLogger):
            found.append(namespace)
    return found


def _query_record(query: tuple[Any, ...]) -> logging.LogRecord:
    """The log record peewee's logger would have made for `query`."""
    return logging.LogRecord(PEEWEE_LOGGER_NAME, logging.DEBUG, "", 0, query, None, None)
