"""One event loop per test for the synchronous client's requests.

Proper's TestClient runs every request with ``asyncio.run``: a new event
loop per request. Inside a test (see :func:`one_loop_per_test`) the
requests of every synchronous client share one loop instead, made on the
first request and closed when the test ends. What ``asyncio.run`` gave
each request is kept: the request runs in its own copy of the caller's
context (values it sets in ``current`` never reach the test or the next
request, and values the test sets are seen by the next request), and the
tasks it leaves behind are cancelled when it returns.

A loop the test left exactly as a new one is (nothing scheduled, watched
or changed: ``private_apis.is_as_new``), with no thread it started still
running, is kept for the next test instead
of being closed, since making and closing one costs a short test more
than its checks do; it is closed before the process forks and when it
exits.
"""
import asyncio
import atexit
import contextvars
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from proper_unittest.private_apis import has_shutdown_work, is_as_new

_T = TypeVar("_T")


class _TestLoop:
    """The loop of one test, made on first use, usable from its own thread.

    A plain loop rather than an ``asyncio.Runner``: the runner's per-request
    SIGINT handler swap and its two shutdown passes at close cost a test
    more than half of what its requests' loop work does; what they give a
    request is kept (Ctrl-C stops it, and it is cancelled with the other
    tasks left behind; asynchronous generators and the default executor are
    shut down when there are any)."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.debug = False  # the loop's debug setting when it was made
        # A thread started during the test and still running when it ends
        # could still hand the loop a callback: then it is not kept.
        self.threads_at_start = frozenset(threading.enumerate())

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        if self.loop is None:
            # Not installed as the thread's current loop: outside a request,
            # the test sees the same (no) current loop as with asyncio.run.
            if _kept:
                self.loop, self.debug = _kept.pop()
            else:
                self.loop = asyncio.new_event_loop()
                self.debug = self.loop.get_debug()  # as PYTHONASYNCIODEBUG and -X dev set it
        loop = self.loop
        # A fresh copy per request, as asyncio.run gives each.
        task = loop.create_task(coro, context=contextvars.copy_context())
        try:
            return loop.run_until_complete(task)
        except BaseException:
            # A KeyboardInterrupt or SystemExit the request raised goes on
            # from here: marked retrieved, as asyncio.run's, so asyncio does
            # not log it again when the task is collected.
            if task.done() and not task.cancelled():
                task.exception()
            raise
        finally:
            _cancel_leftover_tasks(loop)

    def close(self) -> None:
        loop, self.loop = self.loop, None
        if loop is None:
            return
        no_new_thread = self.threads_at_start.issuperset(threading.enumerate())
        if not _kept and no_new_thread and is_as_new(loop, self.debug):
            _kept.append((loop, self.debug))  # for the next test
            return
        try:
            if has_shutdown_work(loop):
                loop.run_until_complete(_shut_down(loop))
        finally:
            loop.close()


# The loop a test left as new, for the next one (at most one), with its
# debug setting when it was made.
_kept: list[tuple[asyncio.AbstractEventLoop, bool]] = []


def _close_kept() -> None:
    """Close the kept loop: before a fork (a child must not share its epoll
    instance and wake-up pipe with this process) and at exit."""
    while _kept:
        _kept.pop()[0].close()


os.register_at_fork(before=_close_kept)
atexit.register(_close_kept)


async def _shut_down(loop: asyncio.AbstractEventLoop) -> None:
    # What asyncio.run does before closing its loop.
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()


_current_test_loop: contextvars.ContextVar[_TestLoop | None] = contextvars.ContextVar(
    "proper_unittest_test_loop", default=None
)


class one_loop_per_test:  # noqa: N801 - used as a context manager function
    """Within this block, :func:`run_request` runs every request made on
    this thread in one event loop, closed when the block ends. (A class,
    not a generator: every test enters one.)"""

    def __enter__(self) -> None:
        self._loop = _TestLoop()
        self._token = _current_test_loop.set(self._loop)

    def __exit__(self, *exc_info: object) -> None:
        _current_test_loop.reset(self._token)
        self._loop.close()


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
