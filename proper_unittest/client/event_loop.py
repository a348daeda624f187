"""One event loop per test for the synchronous client's requests.

Proper's TestClient runs every request with ``asyncio.run``: a new event
loop per request. Inside a test (see :func:`one_loop_per_test`) the
requests of every synchronous client share one loop instead, made on the
first request and closed when the test ends. What ``asyncio.run`` gave
each request is kept: the request runs in its own copy of the caller's
context (values it sets in ``current`` never reach the test or the next
request, and values the test sets are seen by the next request), and the
tasks it leaves behind are cancelled when it returns.
"""
import asyncio
import contextvars
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

_T = TypeVar("_T")


class _TestLoop:
    """The loop of one test, made on first use, usable from its own thread."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.runner: asyncio.Runner | None = None

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        if self.runner is None:
            # A loop_factory keeps the runner from installing its loop as
            # the thread's current loop: outside a request, the test sees
            # the same (no) current loop as with asyncio.run.
            self.runner = asyncio.Runner(loop_factory=asyncio.new_event_loop)
        try:
            # A fresh copy per request: the runner's own context would be
            # shared by every request it runs.
            return self.runner.run(coro, context=contextvars.copy_context())
        finally:
            _cancel_leftover_tasks(self.runner.get_loop())

    def close(self) -> None:
        if self.runner is not None:
            runner, self.runner = self.runner, None
            runner.close()


_current_test_loop: contextvars.ContextVar[_TestLoop | None] = contextvars.ContextVar(
    "proper_unittest_test_loop", default=None
)


@contextmanager
def one_loop_per_test() -> Iterator[None]:
    """Within this block, :func:`run_request` runs every request made on
    this thread in one event loop, closed when the block ends."""
    loop = _TestLoop()
    token = _current_test_loop.set(loop)
    try:
        yield
    finally:
        _current_test_loop.reset(token)
        loop.close()


def run_request(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a request's coroutine to completion: in the test's loop inside
    :func:`one_loop_per_test` on its thread, else with ``asyncio.run``."""
    loop = _current_test_loop.get()
    if loop is None or loop.thread != threading.get_ident():
        return asyncio.run(coro)
    return loop.run(coro)


def _cancel_leftover_tasks(loop: asyncio.AbstractEventLoop) -> None:
    # As asyncio.run does at the end: nothing a request started may run on
    # during the next one.
    leftovers = asyncio.all_tasks(loop)
    if not leftovers:
        return
    for task in leftovers:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
