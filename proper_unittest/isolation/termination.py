"""SIGTERM under plain unittest or pytest: remove what the library made,
then end as SIGTERM does.

SIGTERM's default action ends Python at once, without its exit hooks, so
the run's storage folder, the test databases and files the library
created and the browser it started would stay behind. When a Proper test
class starts in the main thread of a process whose SIGTERM is at its
default (``python -m unittest``, pytest; the runner handles signals
itself), :func:`install` sets a handler. SIGTERM then raises
:class:`Terminated`, a ``KeyboardInterrupt``, so unittest and pytest stop
the run as on Ctrl-C and the interpreter exits through its exit hooks,
which remove what the library made; the last of them ends the process
with SIGTERM again, so whoever sent it sees the usual status (killed by
SIGTERM, 143 in a shell). A SIGTERM that arrives while the exit hooks run
only notes it, so their clean-up is not cut short. SIGINT needs nothing:
its ``KeyboardInterrupt`` already goes through the exit hooks.

Python runs a signal handler only between two steps of Python code on
the main thread: a test stuck in a C call that retries when a signal
interrupts it (a query waiting for a lock, in libpq or SQLite) would not
end. A watchdog thread hears each SIGTERM too (``signal.set_wakeup_fd``);
when the main thread has not handled one after :data:`GRACE_SECONDS` and
has not moved from the call it was in (it would have run whichever
handler was in place, a test's own included), it
runs the exit hooks that are safe from any thread (the storage folder's
removal) and ends the process with status 143 (128 + SIGTERM). It stops
before a fork() (a process with threads warns then) and starts again with
the next test.

The library registers its exit hooks with :func:`register_exit_hook`, so
that they run between :func:`_hooks_begin` (first) and
:func:`_end_by_sigterm` (last). This module is imported first by the
package, before any module that registers a hook.
"""
import atexit
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

#: How long the watchdog lets the main thread take to handle a SIGTERM.
GRACE_SECONDS = 4.0


class Terminated(KeyboardInterrupt):
    """The run was stopped by SIGTERM (see the module doc)."""


# SIGTERMs the main thread has handled; the last exit hook ends the
# process with SIGTERM when there was one.
_handled = 0
# The exit hooks have started: a SIGTERM now only counts.
_exiting = False
# Exit hooks that may run on the watchdog's thread.
_any_thread_hooks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
# The watchdog's pipe (read end, write end) in the process that made it,
# the thread, and the SIGTERMs it heard.
_wakeup: tuple[int, int] | None = None
_watchdog: threading.Thread | None = None
_received = 0
# Not a signal number: tells the watchdog to stop.
_STOP = b"\0"
#: The watchdog thread's name (process_state does not count it as a test's).
WATCHDOG_NAME = "proper_unittest SIGTERM watchdog"


def install() -> None:
    """Handle SIGTERM as the module doc says, if this is the main thread
    and nobody else handles it."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return  # ours already, the runner's, or the project's own
    signal.signal(signal.SIGTERM, _on_sigterm)
    _start_watchdog()


def register_exit_hook(func: Callable[..., Any], *args: Any, any_thread: bool = False) -> None:
    """``atexit.register(func, *args)``, keeping :func:`_hooks_begin` the
    first exit hook to run. `any_thread`: `func` may also run on the
    watchdog's thread, while the main thread is stuck."""
    atexit.register(func, *args)
    atexit.unregister(_hooks_begin)
    atexit.register(_hooks_begin)
    if any_thread:
        _any_thread_hooks.append((func, args))


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global _handled
    _handled += 1
    if _handled == 1:
        _say_stopped_when_uncaught()
    if not _exiting:
        # Also a second time: a test that swallowed the first, or an exit
        # waiting for a thread the tests left running, is stopped again.
        raise Terminated(signal.Signals(signum).name)


def _say_stopped_when_uncaught() -> None:
    # Under python -m unittest nothing catches it: one line, as the runner
    # says it, instead of the traceback of wherever the test was.
    previous = sys.excepthook

    def excepthook(kind: type[BaseException], error: BaseException, traceback: TracebackType | None) -> None:
        if isinstance(error, Terminated):
            print(f"\nStopped ({error}).", file=sys.stderr, flush=True)
        else:
            previous(kind, error, traceback)

    sys.excepthook = excepthook


def _start_watchdog() -> None:
    global _wakeup
    if _wakeup is None:
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        if previous != -1:  # someone else listens there: leave it to them
            signal.set_wakeup_fd(previous)
            os.close(read_end)
            os.close(write_end)
            return
        _wakeup = (read_end, write_end)
    _run_watchdog()


def _run_watchdog() -> None:
    global _watchdog
    if _wakeup is not None and _watchdog is None:
        _watchdog = threading.Thread(target=_watch, args=(_wakeup[0],), name=WATCHDOG_NAME, daemon=True)
        _watchdog.start()


def _watch(read_end: int) -> None:
    """Count the SIGTERMs Python's C-level handler saw; end the process if
    the main thread does not handle one in time (see the module doc)."""
    global _received
    while True:
        try:
            data = os.read(read_end, 64)
        except OSError:
            return
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:  # else another handler's business
            _received += data.count(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        where = _main_thread_position()
        while _handled < _received:
            if _main_thread_position() != where:
                # The main thread runs Python code, so it ran the handler
                # in place when the signal came (a test's or a block's
                # own, swapped back since): not stuck, nothing to force.
                _received = _handled
                break
            if time.monotonic() > deadline:
                _end_without_main_thread()
            time.sleep(0.05)
        if not data or _STOP in data:
            return


def _main_thread_position() -> tuple[int, int] | None:
    """Where the main thread's innermost Python frame is: it stays the same
    only while the thread is stuck in one call."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    return None if frame is None else (id(frame), frame.f_lasti)


def _stop_watchdog_before_fork() -> None:
    # A process with more than one thread warns on fork() (DeprecationWarning,
    # Python 3.12+): the watchdog stops, until the next test starts.
    global _watchdog
    if _watchdog is not None and _wakeup is not None:
        os.write(_wakeup[1], _STOP)
        _watchdog.join()
        _watchdog = None


def resume() -> None:
    """Start the watchdog again if a fork() stopped it (at each test's start)."""
    if _watchdog is None and _wakeup is not None:
        _run_watchdog()


def _end_without_main_thread() -> None:
    for func, args in _any_thread_hooks:
        try:
            func(*args)
        except Exception:  # noqa: BLE001 - go on ending the process
            pass
    print(
        f"\nStopped (SIGTERM): the tests did not stop within {GRACE_SECONDS:g} s (stuck in a "
        "call that does not return on a signal); the storage folder was removed, the test "
        "databases may be left.", file=sys.stderr,
    )
    _flush()
    os._exit(128 + signal.SIGTERM)


def _hooks_begin() -> None:
    global _exiting
    _exiting = True


def _end_by_sigterm() -> None:
    if not _handled:
        return
    _flush()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # closed or replaced
            pass


def _forget_in_child() -> None:
    # A forked child (multiprocessing) has no watchdog and exits its own
    # way: SIGTERM ends it at once, as by default.
    global _wakeup, _watchdog, _handled, _received, _exiting
    _handled, _received, _exiting, _watchdog = 0, 0, False, None
    try:
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if _wakeup is not None:
            current = signal.set_wakeup_fd(-1)
            if current != _wakeup[1]:
                signal.set_wakeup_fd(current)  # not ours: put it back
    except ValueError:  # pragma: no cover - forked from a thread Python does not treat as main
        pass
    if _wakeup is not None:
        for fd in _wakeup:
            os.close(fd)
        _wakeup = None


os.register_at_fork(before=_stop_watchdog_before_fork, after_in_child=_forget_in_child)
# Registered first, so they run last (atexit runs hooks last-registered first).
atexit.register(_end_by_sigterm)
atexit.register(_hooks_begin)
