"""Channel code run as in production: in a worker thread, inside the test's
transaction.

Proper runs every channel callback (``subscribed()``, each action,
``unsubscribed()``) through ``App._run_in_worker``, that is
``asyncio.to_thread``: in a worker thread, which in production has a
database connection of its own. In a test, :class:`ChannelWorkers` stands in
for it: the callbacks run in a worker thread of the test (``proper-worker
(<test id>)``), each in its own copy of the caller's context as with
``to_thread``. The first callback shares the test's connection with the
worker: the system tests' :class:`~._shared_connection.SharedConnection`,
whose one re-entrant lock the worker holds for a whole callback and the
test thread for each statement, so what channel code writes is inside the
test's transaction and rolled back with it. The event loop stays free while
channel code runs, so a channel helper's timeout is honoured while a
callback blocks, and ``asyncio.run()`` works in channel code.

When the test ends, before its rollback, :meth:`ChannelWorkers.finish`
waits at most :data:`WORKER_GRACE` seconds for callbacks still running. One
still running then has outlived its test: the test fails with
:class:`~._outlived.LeftRunning`, naming the thread and where it is, the
rollback goes ahead without it, and from then on its database use and
broadcasts raise (``isolation.outlived.refuse_if_outlived``) instead of reaching
the next test.
"""
import asyncio
import contextvars
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait as wait_for_futures
from queue import SimpleQueue
from typing import Any, cast

import peewee as pw

from proper_unittest.isolation.outlived import LeftRunning, running_job
from proper_unittest.databases.shared_connection import SharedConnection, shared_for
from proper_unittest.isolation.process_state import REPORTED

#: Seconds the end of a test waits for channel code still running, and a
#: connection being torn down waits for its last callback.
WORKER_GRACE = 1.0

# The workers installed on each app (by id), innermost last: a test class
# run from inside another test installs its own over the outer test's.
_installed: dict[int, list["ChannelWorkers"]] = {}


class _Job:
    """One callback: run in the worker thread, in its own context copy."""

    def __init__(self, workers: "ChannelWorkers", func: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.workers = workers
        self.func = func
        self.args = args
        self.context = contextvars.copy_context()
        self.future: Future[Any] = Future()

    @property
    def outlived(self) -> bool:
        """True once its test was rolled back without it."""
        return self.workers.outlived

    def refusal(self, what: str) -> str:
        """The message refusing `what` (see ``isolation.outlived``)."""
        return (
            f"{what} was refused: this channel code (thread {self.workers.thread_name!r}) outlived "
            f"the test {self.workers.test_id}, which was rolled back without it and reported "
            "it (LeftRunning). Nothing it does now may reach another test."
        )

    def run(self) -> None:
        """Run the callback (in the worker thread) and settle the future."""
        if not self.future.set_running_or_notify_cancel():
            return  # cancelled before it started
        try:
            result = self.context.run(self._call)
        except BaseException as error:  # noqa: BLE001 - handed to whoever awaits it, as an executor does
            self.future.set_exception(error)
        else:
            self.future.set_result(result)

    def _call(self) -> Any:
        running_job.set(self)
        return self.func(*self.args)


def _serve(jobs: "SimpleQueue[_Job | None]") -> None:
    """The worker thread: run jobs in order until told to stop (None)."""
    while True:
        job = jobs.get()
        if job is None:
            return
        job.run()
        del job  # nothing it returned stays alive while the thread waits


class ChannelWorkers:
    """The stand-in for ``App._run_in_worker`` during one test (see the
    module docstring). Made on the test's thread, before the test."""

    def __init__(self, app: Any, databases: Iterable[pw.Database], test_id: str) -> None:
        self.app = app
        self.databases = list(databases)
        self.test_id = test_id
        self.thread_name = f"proper-worker ({test_id})"
        #: No callback starts after the test ended (set by finish()).
        self.ended = False
        #: Callbacks still running were given up on: they are refused.
        self.outlived = False
        self._test_thread = threading.get_ident()
        self._jobs: list[_Job] = []
        self._queue: SimpleQueue[_Job | None] | None = None  # made with the thread
        self._thread: threading.Thread | None = None
        self._shared: SharedConnection | None = None
        self._lock = threading.Lock()  # run() may be called from two loops (a live server's)
        self._undo: Callable[[], None] | None = None

    # ---- installing ----

    def install(self) -> "ChannelWorkers":
        """Stand in for the app's ``_run_in_worker`` until :meth:`uninstall`."""
        app = self.app
        had_own = "_run_in_worker" in vars(app)
        previous = vars(app).get("_run_in_worker")
        app._run_in_worker = self.run
        _installed.setdefault(id(app), []).append(self)

        def undo() -> None:
            stack = _installed.get(id(app), [])
            if self in stack:
                stack.remove(self)
            if not stack:
                _installed.pop(id(app), None)
            if had_own:
                app._run_in_worker = previous
            else:
                vars(app).pop("_run_in_worker", None)

        self._undo = undo
        return self

    def uninstall(self) -> None:
        """Give the app its own ``_run_in_worker`` (or the one before) back."""
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()

    # ---- running ----

    @property
    def busy(self) -> bool:
        """True while a callback runs or waits to run."""
        return any(not job.future.done() for job in self._jobs)

    async def run(self, func: Callable[..., Any], *args: Any) -> Any:
        """``App._run_in_worker``: run ``func(*args)`` in the worker thread
        and return what it returns (or raise what it raises)."""
        if self.ended:
            raise LeftRunning(
                f"Channel code was started after the test {self.test_id} ended (by a WebSocket "
                "connection it left open): it was not run. Close connections inside the test."
            )
        task = asyncio.current_task()
        tearing_down = task is not None and task.cancelling() > 0
        if tearing_down and self.busy:
            # The connection is being cancelled (not closed) while channel
            # code still runs: its clean-up callback would only run after
            # that, too late for the test. The end of the test reports what
            # still runs then.
            return None
        job = self._submit(func, args)
        waiting = asyncio.wrap_future(job.future)
        if not tearing_down:
            return await waiting
        try:
            done, _ = await asyncio.wait({waiting}, timeout=WORKER_GRACE)
        except asyncio.CancelledError:
            waiting.cancel()
            raise
        if not done:
            waiting.cancel()
            return None
        return waiting.result()

    def _submit(self, func: Callable[..., Any], args: tuple[Any, ...]) -> _Job:
        job = _Job(self, func, args)
        with self._lock:
            self._share_connection()
            self._jobs = [queued for queued in self._jobs if not queued.future.done()]
            self._jobs.append(job)
            if self._queue is None:
                self._queue = SimpleQueue()
                self._thread = threading.Thread(
                    target=_serve, args=(self._queue,), name=self.thread_name, daemon=True
                )
                self._thread.start()
            self._queue.put(job)
        return job

    def _share_connection(self) -> None:
        """Share the test thread's connections with the worker, once per
        test (a system test's live server shares them already)."""
        if self._shared is not None or shared_for(self.app) is not None:
            return
        if threading.get_ident() != self._test_thread:
            # An event loop on a thread of the test's own: its connection
            # is not the test's, so the worker gets its own, as in
            # production (what it commits is reported as an escaped write).
            return
        self._shared = SharedConnection(self.app, self.databases).open()

    # ---- the end of the test ----

    def finish(self) -> None:
        """At the end of the test, before its rollback: wait for channel
        code still running (at most WORKER_GRACE seconds), stop the worker
        and give the test thread its connection back. Raises
        :class:`LeftRunning` for channel code still running then (which is
        refused from then on); idempotent."""
        with self._lock:
            if self.ended:
                return
            self.ended = True
            jobs = [job for job in self._jobs if not job.future.done()]
        if jobs:
            wait_for_futures([job.future for job in jobs], timeout=WORKER_GRACE)
        for job in jobs:
            job.future.cancel()  # those that never started
        stuck = [job for job in jobs if job.future.running()]
        where = self.where_running() if stuck else ""
        if stuck:
            self.outlived = True
            setattr(self._thread, REPORTED, True)  # named by the error below
        if self._queue is not None:
            self._queue.put(None)
        try:
            if self._thread is not None and not stuck:
                self._thread.join(WORKER_GRACE)
            if stuck:
                self._let_statement_end()
        finally:
            shared, self._shared = self._shared, None
            if shared is not None:
                shared.close()
        if stuck:
            raise LeftRunning(
                f"The test {self.test_id} left channel code running in a worker thread: it was "
                f"still running {WORKER_GRACE:g}s after the test ended, so it could not be rolled "
                "back with the test. The test was rolled back without waiting for it; from now on "
                "its database use and broadcasts raise LeftRunning instead of reaching the next "
                f"test.\n{where}\nMake the channel code finish (or fail) in time, or wait for it "
                "in the test (the channel helpers take a timeout=)."
            )

    def _let_statement_end(self) -> None:
        """If the outliving thread is inside a statement on the shared
        connection, let it end before the rollback uses the connection
        (cancelling it on PostgreSQL), for at most WORKER_GRACE seconds."""
        shared, thread = self._shared, self._thread
        if shared is None or thread is None or thread.ident not in shared.in_statement:
            return
        for db in self.databases:
            conn = cast(Any, db)._state.conn  # the shared state: the test's connection
            if isinstance(db, pw.PostgresqlDatabase) and conn is not None:
                conn.cancel()  # psycopg2 and psycopg 3 alike
        deadline = time.monotonic() + WORKER_GRACE
        while thread.ident in shared.in_statement and time.monotonic() < deadline:
            time.sleep(0.01)

    def where_running(self) -> str:
        """Where the worker thread is now, for messages ("" when idle)."""
        thread = self._thread
        if thread is None or not self.busy or thread.ident is None:
            return ""
        frame = sys._current_frames().get(thread.ident)
        if frame is None:
            return ""
        entries = list(traceback.extract_stack(frame))
        starts = [i for i, entry in enumerate(entries) if entry.filename == __file__]
        shown = [entry for entry in entries[starts[-1] + 1 if starts else 0:]
                 if not entry.filename.startswith(_PACKAGE_DIR)]
        stack = "".join(traceback.StackSummary.from_list(shown).format()).rstrip()
        return (f"Channel code is still running in the worker thread {thread.name!r} (Proper runs "
                f"channel code in worker threads), at (most recent call last):\n{stack}")


_PACKAGE_DIR = os.path.dirname(os.path.dirname(__file__)) + os.sep


def where_running(app: Any) -> str:
    """Where the channel code of `app`'s running test is now, if it runs
    ("" otherwise): for the channel helpers' timeout messages."""
    installed = _installed.get(id(app))
    return installed[-1].where_running() if installed else ""
