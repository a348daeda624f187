"""Keeps what the app logs and the tracebacks of its errors, so a failing
assertion can show them, instead of printing them over the test output."""
import logging
import traceback

from proper.helpers import logger as proper_logger


class AppLog(logging.Handler):
    """Collects the "proper" logger's records and the app's error tracebacks
    while installed; :meth:`mark` / :meth:`since` slice them per request."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
        self.lines: list[str] = []
        self.tracebacks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def install(self, app) -> None:
        """Start collecting; the handler also keeps the records off stderr."""
        _active.append(self)
        proper_logger.addHandler(self)
        if _record_app_error not in app._on_error:
            app.on_error(_record_app_error)

    def uninstall(self) -> None:
        """Stop collecting."""
        proper_logger.removeHandler(self)
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


# Installed logs, innermost last: a test class run from inside another
# test (as the library's own tests do) must not cut the outer one off.
_active: list[AppLog] = []


def _record_app_error() -> None:
    # Proper calls its on_error hooks inside the `except` block, so the
    # exception being handled is still available here.
    if _active:
        _active[-1].tracebacks.append(traceback.format_exc())
