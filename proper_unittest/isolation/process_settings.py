"""Process-wide settings a test can change with one call and leave so,
each read and put back the same way (see process_state.ProcessState):
the signal mask, a running interval timer, the umask, the recursion and
int-to-str limits, the default socket timeout, the warnings filters, the
import hooks, the exception and trace hooks, the garbage collector,
``logging.disable``, the locale, the time zone, the standard streams and
the asyncio event loop policy.

Every test's end reads them all and compares the list with the one from its
start, so most are read by C callables (``functools.partial`` of the C
function or ``operator.attrgetter``): a Python function each would cost more
than the reading."""
import _locale
import _signal  # type: ignore[import-not-found]  # CPython's C module, no stub
import asyncio
import gc
import logging
import operator
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from proper_unittest.environment import pytest_runs_the_test


@dataclass(frozen=True)
class Setting:
    """One setting: its name in reports, how to read it and how to put a
    value read earlier back; `main_thread`: readable only there."""

    name: str
    read: Callable[[], Any]
    put_back: Callable[[Any], None]
    main_thread: bool = False
    #: Whether a change from the first value to the second is the test's
    #: doing (asked only about values that differ).
    is_change: Callable[[Any, Any], bool] = lambda before, now: True


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it sets it: set it straight back
    os.umask(mask)
    return mask


def _put_back_umask(mask: int) -> None:
    os.umask(mask)


# The C function: signal.pthread_sigmask turns every number into an enum.
_signal_mask = partial(_signal.pthread_sigmask, signal.SIG_BLOCK, ())


def _put_back_signal_mask(mask: set[int]) -> None:
    _signal.pthread_sigmask(signal.SIG_SETMASK, mask)


# What is left of a real-time interval timer (SIGALRM): (0.0, 0.0) when none runs.
_timer = partial(_signal.getitimer, signal.ITIMER_REAL)
_NO_TIMER = (0.0, 0.0)


def _timer_started(before: tuple[float, float], now: tuple[float, float]) -> bool:
    # A runner's timer running before the test may run out meanwhile.
    return before == _NO_TIMER and now != _NO_TIMER


def _stop_timer_left_running(before: tuple[float, float]) -> None:
    # Only a timer the test started is stopped (one running before it, a
    # runner's own, stays); the library's time limit stops its own.
    if before == _NO_TIMER:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _warnings_filters() -> tuple[Any, ...]:
    return tuple(warnings.filters)


def _put_back_warnings_filters(filters: tuple[Any, ...]) -> None:
    cast(list[Any], warnings.filters)[:] = list(filters)
    warnings._filters_mutated()  # type: ignore[attr-defined]  # private, not in typeshed: invalidates its cache


_time_zone = partial(operator.attrgetter("tzname", "timezone", "altzone", "daylight"), time)


def _put_back_time_zone(_: tuple[Any, ...]) -> None:
    # os.environ is put back first (TZ): reading it again restores the zone.
    time.tzset()


def _put_back_gc(enabled: bool) -> None:
    if enabled:
        gc.enable()
    else:
        gc.disable()


# The C function: locale.setlocale is a Python wrapper around it.
_locale_now = partial(_locale.setlocale, _locale.LC_ALL, None)


def _put_back_locale(value: str) -> None:
    _locale.setlocale(_locale.LC_ALL, value)


_streams = partial(operator.attrgetter("stdin", "stdout", "stderr"), sys)


def _put_back_streams(streams: tuple[Any, Any, Any]) -> None:
    sys.stdin, sys.stdout, sys.stderr = streams


def _streams_replaced(before: tuple[Any, Any, Any], now: tuple[Any, Any, Any]) -> bool:
    # pytest swaps the streams between its phases (its capture), and a
    # stream closed since is no stream to go back to.
    return not pytest_runs_the_test() and not any(getattr(stream, "closed", False) for stream in before)


def _loop_policy() -> Any:
    return asyncio.get_event_loop_policy()  # made on first use: read it once made


def _put_back_loop_policy(policy: Any) -> None:
    asyncio.set_event_loop_policy(policy)


_logging_disable = partial(operator.attrgetter("root.manager.disable"), logging)


def _getter(obj: Any, name: str) -> Callable[[], Any]:
    return partial(getattr, obj, name)


def _setter(obj: Any, name: str) -> Callable[[Any], None]:
    return partial(setattr, obj, name)


def _meta_path() -> tuple[Any, ...]:
    return tuple(sys.meta_path)


def _put_back_meta_path(hooks: tuple[Any, ...]) -> None:
    sys.meta_path[:] = list(hooks)


#: Every setting, in the order they are put back (the streams first, so the
#: report of the others is seen; the environment, before the time zone, is
#: put back by ProcessState itself).
SETTINGS: tuple[Setting, ...] = (
    Setting("sys.stdin/stdout/stderr", _streams, _put_back_streams, is_change=_streams_replaced),
    Setting("the signal mask (pthread_sigmask)", _signal_mask, _put_back_signal_mask, main_thread=True),
    Setting("a running SIGALRM timer (setitimer)", _timer, _stop_timer_left_running, main_thread=True,
            is_change=_timer_started),
    Setting("the umask", _umask, _put_back_umask),
    Setting("the recursion limit", sys.getrecursionlimit, sys.setrecursionlimit),
    Setting("the int to str digit limit", sys.get_int_max_str_digits, sys.set_int_max_str_digits),
    Setting("the default socket timeout", socket.getdefaulttimeout, socket.setdefaulttimeout),
    Setting("the warnings filters", _warnings_filters, _put_back_warnings_filters),
    Setting("sys.meta_path", _meta_path, _put_back_meta_path),
    Setting("sys.excepthook", _getter(sys, "excepthook"), _setter(sys, "excepthook")),
    Setting("sys.unraisablehook", _getter(sys, "unraisablehook"), _setter(sys, "unraisablehook")),
    Setting("threading.excepthook", _getter(threading, "excepthook"), _setter(threading, "excepthook")),
    Setting("the trace function (sys.settrace)", sys.gettrace, sys.settrace),
    Setting("the profile function (sys.setprofile)", sys.getprofile, sys.setprofile),
    Setting("the garbage collector (gc.disable)", gc.isenabled, _put_back_gc),
    Setting("logging.disable", _logging_disable, logging.disable),
    Setting("the locale", _locale_now, _put_back_locale),
    Setting("the time zone (time.tzset)", _time_zone, _put_back_time_zone),
    Setting("the asyncio event loop policy", _loop_policy, _put_back_loop_policy),
)


def _nothing() -> None:
    return None


_READERS = tuple(setting.read for setting in SETTINGS)
_READERS_OFF_MAIN_THREAD = tuple(_nothing if setting.main_thread else setting.read for setting in SETTINGS)


def read_settings(main_thread: bool) -> list[Any]:
    """The value of every setting (None for one readable only on the main thread)."""
    return [read() for read in (_READERS if main_thread else _READERS_OFF_MAIN_THREAD)]


def put_back_settings(before: list[Any], main_thread: bool) -> list[str]:
    """Put back every setting whose value differs from `before` (as
    read_settings gave it); return what was changed, one line each."""
    after = read_settings(main_thread)
    if after == before:  # nothing changed: compared in C, the cost of every test
        return []
    changes = []
    for setting, value, now in zip(SETTINGS, before, after):
        if now is value or now == value or not setting.is_change(value, now):
            continue
        try:
            setting.put_back(value)
        except Exception as error:  # noqa: BLE001 - named instead: a setting that cannot be put back
            changes.append(f"{setting.name} (could not put it back: {error})")
            continue
        changes.append(setting.name)
    return changes
