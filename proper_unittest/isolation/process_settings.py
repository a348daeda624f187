"""Process-wide settings a test can change with one call and leave so,
each read and put back the same way (see process_state.ProcessState):
the signal mask, a running interval timer, the umask, the recursion and
int-to-str limits, the default socket timeout, the warnings filters, the
import hooks, the exception and trace hooks, the garbage collector,
``logging.disable``, the locale, the time zone, the standard streams and
the asyncio event loop policy."""
import asyncio
import gc
import locale
import logging
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
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
    #: Whether a change from the first value to the second is the test's doing.
    is_change: Callable[[Any, Any], bool] = lambda before, now: not (now is before or now == before)


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it sets it: set it straight back
    os.umask(mask)
    return mask


def _put_back_umask(mask: int) -> None:
    os.umask(mask)


def _signal_mask() -> frozenset[int]:
    return frozenset(signal.pthread_sigmask(signal.SIG_BLOCK, []))


def _put_back_signal_mask(mask: frozenset[int]) -> None:
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _timer() -> bool:
    """Whether a real-time interval timer (SIGALRM) is running."""
    return signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0)


def _stop_timer_left_running(running_before: bool) -> None:
    # Only a timer the test started is stopped (one running before it, a
    # runner's own, stays); the library's time limit stops its own.
    if not running_before:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _warnings_filters() -> tuple[Any, ...]:
    return tuple(warnings.filters)


def _put_back_warnings_filters(filters: tuple[Any, ...]) -> None:
    cast(list[Any], warnings.filters)[:] = list(filters)
    warnings._filters_mutated()  # type: ignore[attr-defined]  # private, not in typeshed: invalidates its cache


def _time_zone() -> tuple[Any, ...]:
    return (time.tzname, time.timezone, time.altzone, time.daylight)


def _put_back_time_zone(_: tuple[Any, ...]) -> None:
    # os.environ is put back first (TZ): reading it again restores the zone.
    time.tzset()


def _gc_enabled() -> bool:
    return gc.isenabled()


def _put_back_gc(enabled: bool) -> None:
    if enabled:
        gc.enable()
    else:
        gc.disable()


def _locale() -> str | None:
    return locale.setlocale(locale.LC_ALL, None)


def _put_back_locale(value: str | None) -> None:
    locale.setlocale(locale.LC_ALL, value)


def _streams() -> tuple[Any, Any, Any]:
    return (sys.stdin, sys.stdout, sys.stderr)


def _put_back_streams(streams: tuple[Any, Any, Any]) -> None:
    sys.stdin, sys.stdout, sys.stderr = streams


def _streams_replaced(before: tuple[Any, Any, Any], now: tuple[Any, Any, Any]) -> bool:
    # pytest swaps the streams between its phases (its capture), and a
    # stream closed since is no stream to go back to.
    if pytest_runs_the_test() or any(getattr(stream, "closed", False) for stream in before):
        return False
    return any(a is not b for a, b in zip(before, now))


def _loop_policy() -> Any:
    return asyncio.get_event_loop_policy()  # made on first use: read it once made


def _put_back_loop_policy(policy: Any) -> None:
    asyncio.set_event_loop_policy(policy)


def _logging_disable() -> int:
    return logging.root.manager.disable


def _setter(obj: Any, name: str) -> Callable[[Any], None]:
    return lambda value: setattr(obj, name, value)


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
            is_change=lambda before, now: now and not before),  # a runner's timer may run out
    Setting("the umask", _umask, _put_back_umask),
    Setting("the recursion limit", sys.getrecursionlimit, sys.setrecursionlimit),
    Setting("the int to str digit limit", sys.get_int_max_str_digits, sys.set_int_max_str_digits),
    Setting("the default socket timeout", socket.getdefaulttimeout, socket.setdefaulttimeout),
    Setting("the warnings filters", _warnings_filters, _put_back_warnings_filters),
    Setting("sys.meta_path", _meta_path, _put_back_meta_path),
    Setting("sys.excepthook", lambda: sys.excepthook, _setter(sys, "excepthook")),
    Setting("sys.unraisablehook", lambda: sys.unraisablehook, _setter(sys, "unraisablehook")),
    Setting("threading.excepthook", lambda: threading.excepthook, _setter(threading, "excepthook")),
    Setting("the trace function (sys.settrace)", sys.gettrace, sys.settrace),
    Setting("the profile function (sys.setprofile)", sys.getprofile, sys.setprofile),
    Setting("the garbage collector (gc.disable)", _gc_enabled, _put_back_gc),
    Setting("logging.disable", _logging_disable, logging.disable),
    Setting("the locale", _locale, _put_back_locale),
    Setting("the time zone (time.tzset)", _time_zone, _put_back_time_zone),
    Setting("the asyncio event loop policy", _loop_policy, _put_back_loop_policy),
)


def read_settings(main_thread: bool) -> list[Any]:
    """The value of every setting (None for one readable only on the main thread)."""
    return [s.read() if main_thread or not s.main_thread else None for s in SETTINGS]


def put_back_settings(before: list[Any], main_thread: bool) -> list[str]:
    """Put back every setting whose value differs from `before` (as
    read_settings gave it); return what was changed, one line each."""
    changes = []
    for setting, value in zip(SETTINGS, before):
        if setting.main_thread and not main_thread:
            continue
        now = setting.read()
        if not setting.is_change(value, now):
            continue
        try:
            setting.put_back(value)
        except Exception as error:  # noqa: BLE001 - named instead: a setting that cannot be put back
            changes.append(f"{setting.name} (could not put it back: {error})")
            continue
        changes.append(setting.name)
    return changes
