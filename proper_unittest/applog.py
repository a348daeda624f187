"""Keeps what the app and its task queue log, and the tracebacks of the
app's errors, so a failing test can show them, instead of printing them
over the test output of passing ones."""
import logging
import traceback
import unittest

from proper.helpers import logger as proper_logger


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
        self.lines: list[str] = []
        self.tracebacks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        if record.name in QUEUE_LOGGERS:
            line = line.replace("] ", f"] {record.name}: ", 1)
        self.lines.append(line)

    def install(self, app) -> None:
        """Start collecting; the handler also keeps the records off stderr
        (logging's last-resort handler prints them when no handler is set)."""
        _active.append(self)
        for logger in _loggers():
            logger.addHandler(self)
        if _record_app_error not in app._on_error:
            app.on_error(_record_app_error)

    def uninstall(self) -> None:
        """Stop collecting."""
        for logger in _loggers():
            logger.removeHandler(self)
        if self in _active:
            _active.remove(self)

    def clear(self) -> None:
        """Forget everything collected so far."""
        self.lines.clear()
        self.tracebacks.clear()

    def mark(self) -> tuple[int, int]:
        """A position to pass to :meth:`since`."""
        return len(self.lines), len(self.tracebacks)

    def since(self, mark: tuple[int, int]) -> tuple[list[str], list[str]]:
        """Log lines and tracebacks collected after `mark`."""
        return self.lines[mark[0]:], self.tracebacks[mark[1]:]


class ShowsLogOnFailure:
    """Test case mixin: when the test method fails or errors, what was
    logged during the test (and is not in the failure message already) is
    added to its report, as a note on the exception. Passing tests show
    nothing. Expects ``self._app_log``, an installed :class:`AppLog`."""

    def _callTestMethod(self, method):
        __tracebackhide__ = True  # the same for pytest  # noqa: F841
        try:
            return super()._callTestMethod(method)
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


def _record_app_error() -> None:
    # Proper calls its on_error hooks inside the `except` block, so the
    # exception being handled is still available here.
    if _active:
        _active[-1].tracebacks.append(traceback.format_exc())
