"""Keeps what the app and its task queue log, and the tracebacks of the
app's errors, so a failing test can show them, instead of printing them
over the test output of passing ones.

On the passing path it costs next to nothing: while a capture is
installed the "proper" logger (which Proper leaves at DEBUG) is raised to
the level captured, so Proper builds no record nobody keeps, and the kept
records are formatted only when a failure message reads them.
"""
import logging
import traceback
import unittest
from collections.abc import Callable, Sequence
from typing import Any, cast

from proper.helpers import logger as proper_logger

from proper_unittest.assertions._base import TestCaseMixin


# unittest leaves frames of modules with this global out of failure
# reports: ShowsLogOnFailure's frame would otherwise head every traceback.
__unittest = True

#: Loggers whose records are kept besides Proper's: huey logs every task
#: that raises ("Unhandled exception in task ...", with its traceback),
#: including the ones a test makes fail on purpose.
QUEUE_LOGGERS = ("huey",)
#: At most this many log entries are appended to a failing test's report.
LOG_ENTRIES_SHOWN = 20


class AppLog(logging.Handler):
    """Collects the records of the "proper" and "huey" loggers and the app's
    error tracebacks while installed; :meth:`mark` / :meth:`since` slice
    them per request."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
        self.records: list[logging.LogRecord] = []
        self.tracebacks: list[str] = []

    @property
    def lines(self) -> "LogLines":
        """Every record kept so far, as formatted lines."""
        return LogLines(self, self.records)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def format_line(self, record: logging.LogRecord) -> str:
        """One kept record as a line: ``[LEVEL] message`` (the queue's
        records name their logger: ``[ERROR] huey: ...``)."""
        line = self.format(record)
        if record.name in QUEUE_LOGGERS:
            line = line.replace("] ", f"] {record.name}: ", 1)
        return line

    def install(self, app: Any) -> None:
        """Start collecting; the handler also keeps the records off stderr
        (logging's last-resort handler prints them when no handler is set)."""
        _active.append(self)
        for logger in _loggers():
            logger.addHandler(self)
        _captured_levels.raise_to_captured()
        if _record_app_error not in app._on_error:
            app.on_error(_record_app_error)

    def uninstall(self) -> None:
        """Stop collecting."""
        for logger in _loggers():
            logger.removeHandler(self)
        if self in _active:
            _active.remove(self)
            _captured_levels.raise_to_captured()

    def clear(self) -> None:
        """Forget everything collected so far."""
        self.records.clear()
        self.tracebacks.clear()

    def mark(self) -> tuple[int, int]:
        """A position to pass to :meth:`since`."""
        return len(self.records), len(self.tracebacks)

    def since(self, mark: tuple[int, int]) -> tuple["LogLines", list[str]]:
        """Log lines and tracebacks collected after `mark`."""
        return LogLines(self, self.records[mark[0]:]), self.tracebacks[mark[1]:]


class LogLines(Sequence[str]):
    """Log records read as formatted lines, formatted on first read (only
    a failure message reads them). Compares equal to a list of the lines."""

    def __init__(self, handler: "AppLog", records: list[logging.LogRecord]) -> None:
        self._handler = handler
        self._records = records
        self._lines: list[str] | None = None

    def _formatted(self) -> list[str]:
        if self._lines is None:
            self._lines = [self._handler.format_line(record) for record in self._records]
        return self._lines

    def __getitem__(self, index: Any) -> Any:
        return self._formatted()[index]

    def __len__(self) -> int:
        return len(self._records)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self._formatted() == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._formatted())


class _LoggerLevel:
    """Keeps a logger at no lower a level than the installed captures keep:
    raised while any capture is installed, put back when the last one goes."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.level_before: int | None = None  # as set, NOTSET included
        self.effective_before = logging.NOTSET

    def raise_to_captured(self) -> None:
        """Apply the installed captures' level (or put the old one back)."""
        if not _active:
            if self.level_before is not None:
                self.logger.setLevel(self.level_before)
                self.level_before = None
            return
        if self.level_before is None:
            self.level_before = self.logger.level
            self.effective_before = self.logger.getEffectiveLevel()
        captured = min(capture.level for capture in _active)
        # Never lower it: a logger at WARNING stays at WARNING.
        self.logger.setLevel(max(captured, self.effective_before))


class ShowsLogOnFailure(TestCaseMixin):
    """Test case mixin: when the test method fails or errors, what was
    logged during the test (and is not in the failure message already) is
    added to its report, as a note on the exception. Passing tests show
    nothing. Expects ``self._app_log``, an installed :class:`AppLog`."""

    def _callTestMethod(self, method: Callable[[], object]) -> Any:
        __tracebackhide__ = True  # the same for pytest  # noqa: F841
        try:
            # A private unittest method, not in typeshed.
            return cast(Any, super())._callTestMethod(method)
        except unittest.SkipTest:
            raise
        except Exception as error:
            app_log = getattr(self, "_app_log", None)
            if app_log is not None:
                add_log_note(error, app_log.lines)
            raise


def add_log_note(error: BaseException, lines: list[str]) -> None:
    """Note the log `lines` on `error`, leaving out those its message has."""
    message = str(error)
    new = [line for line in lines if line not in message][-LOG_ENTRIES_SHOWN:]
    if new:
        error.add_note("Logged during this test (proper, huey):\n" + "\n".join(new))


def _loggers() -> list[logging.Logger]:
    return [proper_logger, *(logging.getLogger(name) for name in QUEUE_LOGGERS)]


# Installed logs, innermost last: a test class run from inside another
# test (as the library's own tests do) must not cut the outer one off.
_active: list[AppLog] = []
_captured_levels = _LoggerLevel(proper_logger)


def _record_app_error() -> None:
    # Proper calls its on_error hooks inside the `except` block, so the
    # exception being handled is still available here.
    if _active:
        _active[-1].tracebacks.append(traceback.format_exc())
