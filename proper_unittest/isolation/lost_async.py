"""Async work a test lost without noticing, made a failure of the test.

- a library coroutine (``self.assertReceives(...)``, ``self.connect()``)
  called without ``await``: Python only warns, when the coroutine is
  collected. :func:`must_be_awaited` notes each coroutine such a method makes
  on its test case; :func:`take_unawaited` finds those that never started.
"""
import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

_Method = TypeVar("_Method", bound=Callable[..., Coroutine[Any, Any, Any]])

#: The attribute of a test case that holds its noted coroutines (made on
#: the first call, so a test that calls none pays nothing).
_NOTED = "_library_coroutines"


def must_be_awaited(method: _Method) -> _Method:
    """Wrap an ``async def`` method of the test case so that each coroutine
    it makes is noted on the test case (see :func:`take_unawaited`). The
    wrapper still reads as a coroutine function to ``inspect``."""

    @functools.wraps(method)
    def noted(self: object, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        coroutine = method(self, *args, **kwargs)
        vars(self).setdefault(_NOTED, []).append((method.__name__, coroutine))
        return coroutine

    return cast(_Method, inspect.markcoroutinefunction(noted))


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
