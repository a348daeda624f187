"""Async work a test lost without noticing, made a failure of the test.

- a library coroutine (``self.assertReceives(...)``, ``self.connect()``)
  called without ``await``: Python only warns, when the coroutine is
  collected. :func:`must_be_awaited` notes each coroutine such a method makes
  on its test case; :func:`take_unawaited` finds those that never started.
- a task whose exception nobody retrieved (``asyncio.create_task(check())``
  that failed): asyncio only logs it, when the task is collected.
  :class:`TaskErrors` watches the tasks of the test's loop and says which
  ended so.
- a task still running the test's own code, or a library check, when the
  test ends (``asyncio.create_task(check())`` never awaited): the end of
  the test cancels it, so its checks never finish. :func:`unfinished_checks`
  names those the test did not cancel itself.
"""
import asyncio
import functools
import inspect
import os
import traceback
from collections.abc import Callable, Coroutine, Iterable
from types import CodeType
from typing import Any, TypeVar, cast

_Method = TypeVar("_Method", bound=Callable[..., Coroutine[Any, Any, Any]])

#: The attribute of a test case that holds its noted coroutines (made on
#: the first call, so a test that calls none pays nothing).
_NOTED = "_library_coroutines"


def must_be_awaited(method: _Method) -> _Method:
    """Wrap an ``async def`` method of the test case so that each coroutine
    it makes is noted on the test case (see :func:`take_unawaited`). The
    wrapper still reads as a coroutine function to ``inspect``."""

    _LIBRARY_CHECKS.add(method.__code__)

    @functools.wraps(method)
    def noted(self: object, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        coroutine = method(self, *args, **kwargs)
        vars(self).setdefault(_NOTED, []).append((method.__name__, coroutine))
        return coroutine

    return cast(_Method, inspect.markcoroutinefunction(noted))


# The code of the library's async methods (see must_be_awaited): a task
# left running one is a check that never finished.
_LIBRARY_CHECKS: set[CodeType] = set()


def unfinished_checks(tasks: Iterable["asyncio.Task[Any]"], test_file: str | None) -> list[str]:
    """The tasks among `tasks` (left running when a test ends) whose
    coroutine is the test's own code (defined in `test_file`, the test
    module) or a library check, and which the test did not cancel itself,
    one description each: cancelling them at the test's end means what
    they check never finished. Tasks of other code (the app's, asyncio's)
    are not named: the test may leave those to be cancelled."""
    own = _file_key(test_file) if test_file else None
    found = []
    for task in tasks:
        if task.done() or task.cancelling():
            continue
        coro = task.get_coro()
        code: CodeType | None = getattr(coro, "cr_code", None)
        if code is None:
            continue
        if code in _LIBRARY_CHECKS or (own is not None and _file_key(code.co_filename) == own):
            frame = getattr(coro, "cr_frame", None)
            where = f" at {code.co_filename}:{frame.f_lineno}" if frame is not None else ""
            found.append(f"the task {task.get_name()} ({_describe_coro(task)}) was still running{where}")
    return found


def _file_key(path: str) -> str:
    # The same file however its path was spelt (relative, or in another case on Windows).
    return os.path.normcase(os.path.abspath(path))


def explain_unfinished(test_id: str, tasks: list[str]) -> str:
    """The failure message for the `tasks` :func:`unfinished_checks` named."""
    listed = "\n".join(f"- {task}" for task in tasks)
    return (f"The test {test_id} ended while tasks running its checks had not finished, so what "
            f"they check was never checked (the library cancelled them):\n{listed}\n"
            "Await each task inside the test (await task, or asyncio.gather), or cancel it "
            "yourself if the test does not need it to finish.")


def take_unawaited(test: object, loop: asyncio.AbstractEventLoop | None = None) -> list[str]:
    """The calls of noted methods of `test` whose coroutine never
    started (``self.name(...)`` and where it was made), each closed (so Python does not warn about it too); forgets
    every noted coroutine. One a pending task of `loop` holds is left to
    that task (it starts, or is cancelled, with it)."""
    noted: list[tuple[str, Coroutine[Any, Any, Any]]] = vars(test).pop(_NOTED, [])
    unstarted = [(name, coroutine) for name, coroutine in noted
                 if inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED]
    if not unstarted:
        return []
    in_tasks = {id(task.get_coro()) for task in asyncio.all_tasks(loop)} if loop is not None else set()
    calls = []
    for name, coroutine in unstarted:
        if id(coroutine) not in in_tasks:
            calls.append(f"self.{name}(...){_called_at(coroutine)}")
            coroutine.close()
    return calls


def _called_at(coroutine: Coroutine[Any, Any, Any]) -> str:
    """" (at file:line, in function)" for the code that made `coroutine`,
    when asyncio's debug mode (on in IsolatedAsyncioTestCase) tracked it."""
    origin = getattr(coroutine, "cr_origin", None) or ()
    for filename, line, function in origin:
        if filename != __file__:
            return f" (at {filename}:{line}, in {function})"
    return ""


def explain_unawaited(test_id: str, calls: list[str]) -> str:
    """The failure message for the `calls` (see :func:`take_unawaited`)
    the test never awaited."""
    listed = "\n".join(f"- {call} was called without await, so it never ran" for call in calls)
    return (f"The test {test_id} called async methods of the library without awaiting them, "
            f"so what they check was never checked:\n{listed}\n"
            "Write await before each call (await self.assertReceives(ws, ...)).")


class TaskErrors:
    """Watches the tasks made on a loop (through its task factory) and finds
    those that ended with an exception nobody retrieved. Keeps only tasks
    not yet done and those that failed, so a test that makes many tasks
    does not keep them all."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._factory: Any = None

    def install(self, loop: asyncio.AbstractEventLoop) -> "TaskErrors":
        """Watch the tasks made on `loop` from now on (keeping a task
        factory it already had)."""
        self._factory = loop.get_task_factory()
        loop.set_task_factory(self._make_task)
        return self

    def _make_task(self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> "asyncio.Future[Any]":
        task: asyncio.Future[Any]
        if self._factory is not None:
            task = self._factory(loop, coro, **kwargs)
        else:
            task = _Task(coro, loop=loop, **kwargs)
        if isinstance(task, asyncio.Task):
            self._tasks.add(task)
            task.add_done_callback(self._forget_if_fine)
        return task

    def _forget_if_fine(self, task: "asyncio.Task[Any]") -> None:
        if not _has_unretrieved_exception(task):
            self._tasks.discard(task)

    def take_unretrieved(self) -> list["asyncio.Task[Any]"]:
        """The tasks that ended with an exception nobody retrieved; from
        now on they count as retrieved (asyncio does not log them again)."""
        failed = [task for task in self._tasks if task.done() and _has_unretrieved_exception(task)]
        for task in failed:
            self._tasks.discard(task)
            task._log_traceback = False  # asyncio's "retrieved" flag (only False may be set)
        return failed


class _Task(asyncio.Task[Any]):
    """An asyncio Task; Python 3.13.0's ``loop.create_task`` names a task
    made through a task factory "None" when given no name: keep the
    default name ("Task-7") then."""

    def set_name(self, value: object) -> None:
        if value is not None:
            super().set_name(value)


def _has_unretrieved_exception(task: "asyncio.Task[Any]") -> bool:
    # asyncio's own notion: set with the exception, cleared by result(),
    # exception() or an await of the task.
    return bool(getattr(task, "_log_traceback", False))


class UnretrievedTaskError(Exception):
    """A task the test made raised, and nothing retrieved its exception."""


def unretrieved_error(test_id: str, tasks: list["asyncio.Task[Any]"],
                      failure: type[BaseException]) -> BaseException:
    """The exception to report `tasks` (from :meth:`TaskErrors.take_unretrieved`)
    with: a `failure` when every one failed an assertion, else an
    :class:`UnretrievedTaskError`. Its message names each task and shows
    its exception's traceback."""
    errors = [cast(BaseException, task.exception()) for task in tasks]
    parts = [f"- the task {task.get_name()} ({_describe_coro(task)}) raised:\n"
             + "".join(traceback.format_exception(error)).rstrip()
             for task, error in zip(tasks, errors)]
    message = (f"The test {test_id} made tasks that raised, and nothing retrieved their exception "
               "(await the task, or call its result() or exception()):\n" + "\n".join(parts))
    if all(isinstance(error, AssertionError) for error in errors):
        return failure(message)
    return UnretrievedTaskError(message)


def _describe_coro(task: "asyncio.Task[Any]") -> str:
    coro = task.get_coro()
    return getattr(coro, "__qualname__", None) or repr(coro)
