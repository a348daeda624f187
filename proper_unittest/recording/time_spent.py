"""Where a test's time went: SQL, password hashing, requests (the app's own
code), template rendering, emails and tasks, measured only when asked
(``--durations`` sets PROPER_UNITTEST_TIME_SPENT=1).

Each part is timed by wrapping one method of the app for the test (the
original still runs). Times are exclusive: a template rendered inside a
request counts as rendering, not as the request, so the parts add up to at
most the test's own duration; the rest is the test's own code and the
library's set-up. Only the test's own thread is timed.
"""
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from proper_unittest.discovery import env_switch
from proper_unittest.recording.recorder import wrap_on_instance


ENV_VAR = "PROPER_UNITTEST_TIME_SPENT"
SQL = "SQL"
HASHING = "password hashing"
REQUESTS = "requests (app code)"
TEMPLATES = "templates"
EMAILS = "emails"
TASKS = "tasks"
PARTS = (SQL, HASHING, REQUESTS, TEMPLATES, EMAILS, TASKS)


def is_enabled() -> bool:
    """Whether this run measures where each test's time went."""
    return bool(env_switch(ENV_VAR))


class TimeSpent:
    """One test's time per part (see the module docstring)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        # Only the test's thread is timed (a live server's thread would
        # interleave with it); other threads' calls go straight through.
        self._thread = threading.get_ident()
        self.seconds: dict[str, float] = dict.fromkeys(PARTS, 0.0)
        self._open: list[list[Any]] = []  # [part, started], innermost last
        self._undo: list[Callable[[], None]] = []

    def _enter(self, part: str) -> None:
        now = self.clock()
        if self._open:
            outer = self._open[-1]
            self.seconds[outer[0]] += now - outer[1]
        self._open.append([part, now])

    def _leave(self) -> None:
        now = self.clock()
        part, started = self._open.pop()
        self.seconds[part] += now - started
        if self._open:
            self._open[-1][1] = now

    def _timed(self, part: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != self._thread:
                return method(*args, **kwargs)
            self._enter(part)
            try:
                return method(*args, **kwargs)
            finally:
                self._leave()
        return timed

    def _timed_async(self, part: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != self._thread:
                return await method(*args, **kwargs)
            self._enter(part)
            try:
                return await method(*args, **kwargs)
            finally:
                self._leave()
        return timed

    def _wrap(self, obj: Any, name: str, part: str, *, is_async: bool = False) -> None:
        method = getattr(obj, name, None)
        if method is None:
            return
        wrapper = self._timed_async(part, method) if is_async else self._timed(part, method)
        self._undo.append(wrap_on_instance(obj, name, wrapper))

    def install(self, app: Any, databases: Iterable[Any]) -> "TimeSpent":
        """Start timing `app`'s parts and the statements of `databases`."""
        for database in databases:
            self._wrap(database, "execute_sql", SQL)
        hasher = getattr(getattr(app, "auth", None), "hasher", None)
        if hasher is not None:
            for name in ("hash", "verify"):
                self._wrap(hasher, name, HASHING)
        self._wrap(app, "_asgi_app", REQUESTS, is_async=True)
        self._wrap(getattr(app, "catalog", None), "render", TEMPLATES)
        self._wrap(getattr(app, "mailer", None), "send_now", EMAILS)
        self._wrap(getattr(app, "queue", None), "execute", TASKS)
        return self

    def uninstall(self) -> None:
        """Put every wrapped method back."""
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def summary(self) -> dict[str, float]:
        """Seconds per part that took any time, largest first."""
        spent = {part: seconds for part, seconds in self.seconds.items() if seconds > 0}
        return dict(sorted(spent.items(), key=lambda item: item[1], reverse=True))


def describe(seconds: dict[str, float], total: float) -> str:
    """One line: each part's milliseconds and share of `total`, then the rest."""
    parts = [f"{part} {value * 1000:.1f} ms ({value / total:.0%})" if total > 0 else f"{part} {value * 1000:.1f} ms"
             for part, value in seconds.items()]
    rest = total - sum(seconds.values())
    if rest > 0:
        parts.append(f"test code and set-up {rest * 1000:.1f} ms" + (f" ({rest / total:.0%})" if total > 0 else ""))
    return ", ".join(parts)
