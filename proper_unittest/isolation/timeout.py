"""A per-test time limit.

The limit comes from the test class's ``timeout`` attribute, else from the
PROPER_UNITTEST_TIMEOUT environment variable (which ``--timeout`` on the
runner sets, and which unittest and pytest runs read as well). When a test
method runs longer, it fails with :class:`TestTimeout`, whose message shows
where it was stuck; its cleanups and rollback then run as after any
failure, and the run goes on.

How: a SIGALRM timer (the main thread only; elsewhere there is no limit).
When it fires inside the test's own code (a sync test, or an async test
blocking the event loop), the handler raises there. When an async test is
suspended in an ``await`` (the loop is waiting), raising would break the
loop instead: the handler notes the coroutine's stack and cancels the
test's task, and the cancellation is turned into the same failure.
"""
import asyncio
import math
import signal
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import CodeType, FrameType
from typing import Any

from proper_unittest.environment import environment_value
from proper_unittest.errors import ConfigurationError

TIMEOUT_ENV = "PROPER_UNITTEST_TIMEOUT"


class TestTimeout(AssertionError):
    """The test method ran longer than its time limit; the message shows
    where it was stuck. An ``AssertionError``: reported as a failure."""

    __test__ = False  # not a test class, whatever pytest thinks of the name


def parse_seconds(value: object, source: str) -> float | None:
    """`value` as a time limit in seconds (None for no limit: unset or 0);
    a clear :class:`ConfigurationError` naming `source` otherwise."""
    if value is None or value == "":
        return None
    try:
        seconds = float(value)  # type: ignore[arg-type]  # checked right here
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ConfigurationError(
            f"{source} must be a number of seconds (0 for no limit), not {value!r}."
        )
    return seconds or None


def limit_for(test_class: type) -> float | None:
    """The time limit of `test_class`'s tests: its ``timeout`` attribute,
    else PROPER_UNITTEST_TIMEOUT, else none."""
    value = getattr(test_class, "timeout", None)
    if value is not None:
        return parse_seconds(value, f"{test_class.__name__}.timeout")
    return limit_from_environment()


def limit_from_environment() -> float | None:
    """The time limit PROPER_UNITTEST_TIMEOUT (``--timeout``) sets, or none."""
    return parse_seconds(environment_value(TIMEOUT_ENV).strip(), TIMEOUT_ENV)


class TimeLimit:
    """The time limit of one test method."""

    def __init__(self, test_id: str, seconds: float, source: str, method: Callable[..., Any]) -> None:
        self.test_id = test_id
        self.seconds = seconds
        self.source = source
        self.code: CodeType | None = getattr(getattr(method, "__func__", method), "__code__", None)
        #: The task of an async test while its coroutine runs.
        self.task: asyncio.Task[Any] | None = None
        #: Where an async test was suspended when the limit was reached.
        self.stuck_at: list[str] | None = None

    @contextmanager
    def armed(self) -> Iterator[None]:
        """Within this block, the alarm fires after the limit (main thread
        only; an alarm set by someone else is put back afterwards)."""
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
            yield
            return
        started = time.monotonic()
        previous_handler = signal.signal(signal.SIGALRM, self._on_alarm)
        previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            if previous_delay:
                left = max(previous_delay - (time.monotonic() - started), 0.001)
                signal.setitimer(signal.ITIMER_REAL, left, previous_interval)

    def wrap_coroutine(self, method: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        """The async test method, turning the cancellation made by the
        alarm into :class:`TestTimeout`."""
        async def limited() -> Any:
            self.task = asyncio.current_task()
            try:
                return await method()
            except asyncio.CancelledError:
                if self.stuck_at is None:
                    raise
                raise TestTimeout(self.message(self.stuck_at)) from None
            finally:
                self.task = None
        return limited

    def message(self, stack: list[str]) -> str:
        """The failure message, with the stack of where the test was."""
        where = "".join(stack).rstrip() or "  (no frame of the test's own code)"
        return (
            f"The test {self.test_id} ran longer than its time limit of {self.seconds:g}s "
            f"({self.source}) and was stopped. Where it was (most recent call last):\n{where}\n"
            "Its cleanups and rollback ran as after any failure; the run went on."
        )

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        task = self.task
        if task is not None and not task.done() and not getattr(task.get_coro(), "cr_running", False):
            # Suspended in an await: cancel the task from the loop.
            self.stuck_at = _coroutine_stack(task.get_coro())
            task.get_loop().call_soon_threadsafe(task.cancel)
            return
        raise TestTimeout(self.message(self._frames_from_the_test(frame)))

    def _frames_from_the_test(self, frame: FrameType | None) -> list[str]:
        summary = traceback.extract_stack(frame)
        starts = [i for i, entry in enumerate(summary) if self._is_test_frame(entry)]
        frames = summary[starts[0]:] if starts else summary
        return traceback.StackSummary.from_list(frames).format()

    def _is_test_frame(self, entry: traceback.FrameSummary) -> bool:
        code = self.code
        return code is not None and entry.filename == code.co_filename and entry.name == code.co_name


def _coroutine_stack(coro: Any) -> list[str]:
    """The frames of a suspended coroutine and of those it awaits, outermost
    first (this module's wrapper left out)."""
    entries: list[traceback.FrameSummary] = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            break
        if frame.f_code.co_filename != __file__:
            entries.append(traceback.FrameSummary(
                frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name
            ))
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return traceback.StackSummary.from_list(entries).format()
