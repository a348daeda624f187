"""What a test can change in the process, compared and put back after it,
as CPython's regression test runner does (``test.libregrtest``'s
saved_test_environment).

Checked: ``os.environ``, the working directory, ``sys.path``, the level,
handlers, filters, ``disabled`` and ``propagate`` of every logger (one the
test made included), the signal handlers, and the settings of
process_settings (the signal mask, timers, umask, limits, hooks, locale,
time zone, standard streams...).
A change is put back and the test (or class) is named on stderr; with
``strict_process_state = True`` on the class, or
``PROPER_UNITTEST_STRICT_STATE=1``, it is an error of the test. Threads the
test started and left running are named too (they cannot be put back).
"""
import _signal  # type: ignore[import-not-found]  # CPython's C module, no stub
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from proper_unittest.discovery import env_switch
from proper_unittest.environment import PYTEST_TEST_VARIABLE, pytest_runs_the_test
from proper_unittest.isolation.process_settings import put_back_settings, read_settings
from proper_unittest.isolation.termination import WATCHDOG_NAME

#: Environment variable turning every change into an error.
STRICT_ENV = "PROPER_UNITTEST_STRICT_STATE"
#: Set (True) on a thread whose test already failed for leaving it running.
REPORTED = "proper_unittest_reported"

# unittest leaves this module's frames out of the error it reports.
__unittest = True

# The named signals (the real-time ones, SIGRTMIN+n, are left out: nothing
# in an app sets them, and they would double the cost of the check).
_SIGNALS = tuple(s for s in signal.Signals if s not in (signal.SIGKILL, signal.SIGSTOP))


class ProcessStateChanged(Exception):
    """A test changed the process's state (see the module doc) and left it
    so; raised only in strict mode, as an error of the test."""


def is_strict(test_class: type) -> bool:
    """True when changes are errors for `test_class`."""
    if getattr(test_class, "strict_process_state", False):
        return True
    return bool(env_switch(STRICT_ENV))


_known_loggers: tuple[int, list[logging.Logger]] = (-1, [])


def _loggers() -> list[logging.Logger]:
    """The root logger and every logger made so far (recomputed only when
    loggers were added: a logger is never removed)."""
    global _known_loggers
    registry = logging.Logger.manager.loggerDict
    count, found = _known_loggers
    if count != len(registry):
        found = [logging.getLogger()]
        found.extend(lg for lg in list(registry.values()) if isinstance(lg, logging.Logger))
        _known_loggers = (len(registry), found)
    return found


_LoggerState = tuple[int, list[logging.Handler] | None, bool, bool, list[Any] | None]
# A logger as logging.getLogger() makes it.
_NEW_LOGGER: _LoggerState = (logging.NOTSET, None, False, True, None)


def _logger_states(loggers: list[logging.Logger]) -> list[_LoggerState]:
    """(level, a copy of the handlers or None for none, disabled, propagate,
    a copy of the filters or None) per logger: most loggers have no
    handler and no filter, and None costs no list."""
    return [
        (lg.level, lg.handlers[:] if lg.handlers else None, lg.disabled, lg.propagate,
         lg.filters[:] if lg.filters else None)
        for lg in loggers
    ]


def _without_null_handlers(state: _LoggerState) -> _LoggerState:
    """`state` with no handlers when it has only ``NullHandler`` ones: what
    a library adds to its logger when first imported (as the logging HOWTO
    tells libraries to), which a test importing it lazily is not to blame
    for, and which changes no output. They are left in place."""
    handlers = state[1]
    if handlers and all(type(handler) is logging.NullHandler for handler in handlers):
        return (state[0], None, state[2], state[3], state[4])
    return state


def _signal_handlers() -> list[Any]:
    # The C function: signal.getsignal wraps each answer in an enum lookup
    # that costs more than the whole rest of the check.
    return list(map(_signal.getsignal, _SIGNALS))


def _environ() -> dict[Any, Any]:
    # os.environ's raw (bytes) mapping: copying os.environ itself decodes
    # every key and value, a hundred times slower.
    raw: dict[Any, Any] | None = getattr(os.environ, "_data", None)
    found = dict(raw) if raw is not None else dict(os.environ)
    for key in _IGNORED_VARIABLES:
        found.pop(key, None)
    return found


# pytest names the test and phase running in this variable (setup, call,
# teardown): it changes between a class's set-up and its clean-up on purpose.
_IGNORED_VARIABLES = (PYTEST_TEST_VARIABLE, PYTEST_TEST_VARIABLE.encode())

# The snapshot of a test that changed nothing, for the next test's start
# (ProcessState.for_test); emptied by every other snapshot and report, so
# only a test's own report, then the runner's bookkeeping, come between.
_left_by_clean_test: list["ProcessState"] = []


class ProcessState:
    """A snapshot of the process's state; :meth:`restore` puts it back and
    says what had changed."""

    def __init__(self) -> None:
        _left_by_clean_test.clear()  # any other snapshot: nothing is left for the next test
        self.environ = _environ()
        self.cwd = os.getcwd()
        self.path = list(sys.path)
        self.loggers = _loggers()
        self.logger_state = _logger_states(self.loggers)
        self.signals = _signal_handlers()
        self.threads = set(threading.enumerate())
        self.main_thread = threading.current_thread() is threading.main_thread()
        self.settings = read_settings(self.main_thread)

    @classmethod
    def for_test(cls) -> "ProcessState":
        """The snapshot at a test's start: the one the test before it left
        (see :func:`report`), which still describes the process when that
        test changed nothing, no logger was made since, and nothing could
        run in between (under pytest, function fixtures do: pytest names
        the running test in PYTEST_CURRENT_TEST); else a new one."""
        left = _left_by_clean_test.pop() if _left_by_clean_test else None
        if left is not None and left.loggers is _loggers() and not pytest_runs_the_test():
            return left
        return cls()

    def restore(self) -> list[str]:
        """Put back what changed; return one description per change."""
        changes: list[str] = []
        if _environ() != self.environ:
            changes.append(self._restore_environ())
        try:
            cwd = os.getcwd()
        except OSError:  # the test removed the folder it moved to
            cwd = "(a removed folder)"
        if cwd != self.cwd:
            os.chdir(self.cwd)
            changes.append(f"the working directory (to {cwd})")
        if sys.path != self.path:
            changes.append(_list_change("sys.path", self.path, sys.path))
            sys.path[:] = self.path
        changes.extend(put_back_settings(self.settings, self.main_thread))
        state = _logger_states(self.loggers)
        if state != self.logger_state:
            changes.extend(self._restore_loggers(self.loggers, self.logger_state, state))
        made = _loggers()
        if made is not self.loggers:  # loggers made during the test: as getLogger made them
            known = set(self.loggers)
            new = [lg for lg in made if lg not in known]
            new_state = [_without_null_handlers(state) for state in _logger_states(new)]
            changes.extend(self._restore_loggers(new, [_NEW_LOGGER] * len(new), new_state))
        if threading.current_thread() is threading.main_thread():
            now = _signal_handlers()
            if now != self.signals:
                changes.extend(self._restore_signals(now))
        return changes

    def new_threads(self) -> list[threading.Thread]:
        """Threads started since the snapshot and still alive."""
        # "asyncio_N" threads are the default executor of the test's event
        # loop, shut down with the loop right after the test's clean-ups; a
        # thread the test's LeftRunning error already named is not named
        # twice; the SIGTERM watchdog is restarted after a test's fork().
        return [
            t for t in threading.enumerate()
            if t not in self.threads and t.is_alive() and not t.name.startswith("asyncio_")
            and not getattr(t, REPORTED, False) and t.name != WATCHDOG_NAME
        ]

    def _restore_environ(self) -> str:
        decode = getattr(os.environ, "decodekey", lambda key: key)
        decode_value = getattr(os.environ, "decodevalue", lambda value: value)
        before = {decode(k): decode_value(v) for k, v in self.environ.items()}
        now = {k: v for k, v in os.environ.items() if k not in _IGNORED_VARIABLES}
        added = sorted(set(now) - set(before))
        removed = sorted(set(before) - set(now))
        changed = sorted(k for k in set(now) & set(before) if now[k] != before[k])
        for key in added:
            del os.environ[key]
        for key in removed + changed:
            os.environ[key] = before[key]
        parts = [f"{verb} {', '.join(keys)}" for verb, keys in
                 (("added", added), ("removed", removed), ("changed", changed)) if keys]
        return f"os.environ ({'; '.join(parts)})"

    @staticmethod
    def _restore_loggers(loggers: list[logging.Logger], before: list[_LoggerState],
                         state: list[_LoggerState]) -> list[str]:
        changes: list[str] = []
        for logger, (level, handlers, disabled, propagate, filters), now in zip(loggers, before, state):
            if now == (level, handlers, disabled, propagate, filters):
                continue
            name = logger.name if logger.name != "root" or logger is not logging.getLogger() else "root"
            what = []
            if now[0] != level:
                what.append(f"level {logging.getLevelName(level)} -> {logging.getLevelName(now[0])}")
                logger.setLevel(level)
            if now[1] != handlers:
                what.append("handlers")
                logger.handlers[:] = handlers or []
            if now[2] != disabled:
                what.append(f"disabled {disabled} -> {now[2]}")
                logger.disabled = disabled
            if now[3] != propagate:
                what.append(f"propagate {propagate} -> {now[3]}")
                logger.propagate = propagate
            if now[4] != filters:
                what.append("filters")
                logger.filters[:] = filters or []
            changes.append(f"the logger {name!r} ({', '.join(what)})")
        return changes

    def _restore_signals(self, now: list[Any]) -> list[str]:
        changes: list[str] = []
        for signum, before, after in zip(_SIGNALS, self.signals, now):
            if after is before or after == before:
                continue
            try:
                signal.signal(signum, before if before is not None else signal.SIG_DFL)
            except (OSError, ValueError, TypeError):
                pass
            changes.append(f"the handler of {signal.Signals(signum).name}")
        return changes


def _list_change(name: str, before: list[str], after: list[str]) -> str:
    added = [p for p in after if p not in before]
    removed = [p for p in before if p not in after]
    parts = [f"added {', '.join(added)}" if added else "", f"removed {', '.join(removed)}" if removed else ""]
    detail = "; ".join(p for p in parts if p) or "reordered"
    return f"{name} ({detail})"


def report(who: str, state: ProcessState, strict: bool, *, test: bool = False,
           also: Sequence[str] = ()) -> None:
    """Put back what `who` changed, say so on stderr (raise
    :class:`ProcessStateChanged` when `strict`), and name threads it left
    and what else was put back for it (`also`: "changed X; put back.").
    A `test` that changed nothing leaves `state` for the next test's start."""
    changes = state.restore()
    threads = state.new_threads()
    lines = [f"{who} changed {change}; put back." for change in changes]
    lines += [f"{who} {done}" for done in also]
    lines += [
        f"{who} left a thread running: {t.name!r}{' (daemon)' if t.daemon else ''}."
        for t in threads
    ]
    _left_by_clean_test.clear()
    if not lines:
        if test:
            _left_by_clean_test.append(state)
        return
    if strict:
        raise ProcessStateChanged("\n".join(lines))
    for line in lines:
        print(f"proper_unittest: {line}", file=sys.stderr)
