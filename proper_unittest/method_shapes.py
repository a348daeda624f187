"""Test methods whose body would never run, and the message that says why.

unittest calls a test method and, at most, warns about what it returns: a
generator function's body never runs (calling it only makes a generator),
an ``async def`` test in a class that does not run coroutines never runs,
nor does a coroutine a plain ``def`` test returns. Each would pass. The test
cases ask :func:`problem_before_call` (unless :func:`known_to_run`) before
the set-up (so ``@unittest.expectedFailure`` cannot turn the failure green)
and :func:`problem_with_returned` after the call.
"""
import inspect
from collections.abc import Callable
from types import FunctionType
from typing import Any

_FIX_ASYNC_IN_SYNC = ("Make the class an AsyncChannelTestCase (from proper_unittest import "
                      "AsyncChannelTestCase), whose tests may be async, or make the test a plain def.")


def known_to_run(method: object) -> bool:
    """Whether `method` surely runs its body when called: a plain function
    whose code is neither a generator's nor a coroutine's, with no
    attribute set (so no ``inspect.markcoroutinefunction`` mark). Asked for
    every test, it reads the code's flags instead of the ``inspect``
    functions' unwrapping (see :func:`problem_before_call` for the rest)."""
    return type(method) is FunctionType and not method.__code__.co_flags & _DEFERRED_BODY and not method.__dict__


# The code flags of functions whose call only makes a generator or a coroutine.
_DEFERRED_BODY = (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
                  | inspect.CO_ITERABLE_COROUTINE)


def problem_before_call(name: str, method: Callable[..., Any] | None, class_name: str,
                        sync_base: str | None) -> str | None:
    """Why the test method `name` of the class `class_name` would never run
    its body, or None. `sync_base` is the library class it derives from when
    that class runs no coroutines ("ProperTestCase"), None when it does."""
    if inspect.isasyncgenfunction(method):
        return (f"{name} is an async generator function (an async def with yield): calling it only "
                "makes an async generator, so its body never ran. A test method cannot yield: "
                "remove the yield.")
    if inspect.isgeneratorfunction(method):
        return (f"{name} is a generator function (a yield in its body makes it one): calling it "
                "only makes a generator, so its body never ran. A test method cannot yield: "
                "remove the yield.")
    if sync_base is not None and inspect.iscoroutinefunction(method):
        return (f"{name} is an async test, which {class_name} (a {sync_base}) cannot run: it was "
                f"never awaited. {_FIX_ASYNC_IN_SYNC}")
    return None


def problem_with_returned(name: str, returned: Any, class_name: str, sync_base: str | None) -> str | None:
    """Why what the test method `name` returned means its checks never ran
    (an awaitable nothing awaited), or None. A coroutine is closed, so
    Python does not warn about it too."""
    if returned is None or not inspect.isawaitable(returned):
        return None
    if inspect.iscoroutine(returned):
        returned.close()
    kind = _describe_awaitable(returned)
    if sync_base is not None:
        return (f"{name} returned {kind}, which {class_name} (a {sync_base}) cannot run: nothing "
                "awaited it, so what it checks never ran. To run it, make the class an "
                "AsyncChannelTestCase and the test an async def that awaits it.")
    return (f"{name} is a plain def that returned {kind}: nothing awaited it, so what it checks "
            f"never ran. To run it, make the test async def and await it "
            f"(async def {name}(self): await ...).")


def _describe_awaitable(value: Any) -> str:
    if inspect.iscoroutine(value):
        return f"a coroutine ({value.__qualname__})"
    return f"an awaitable ({type(value).__name__})"
