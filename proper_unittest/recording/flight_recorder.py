"""The flight recorder: a compact appendix on a failing test's report.

When a test fails or errors, the exception gets a note (PEP 678
``add_note``) listing what the test did: its requests, its SQL grouped with
repeats counted, the emails, tasks and broadcasts, and how to rerun just
this test. Notes are part of the exception, so every reporter shows them:
unittest's ``TextTestRunner``, the library's runner and pytest.
"""
import os
import sys
import unittest
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from proper_unittest.discovery import env_switch
from proper_unittest.isolation.app_state import outbox
from proper_unittest.recording.recorder import TestRecording, apps_own

if TYPE_CHECKING:
    from proper_unittest.client.response import Response

# What unittest passes to addFailure/addError (sys.exc_info()).
_ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


#: Environment variable that turns the appendix off ("0", "false", "no", "off").
SWITCH_VARIABLE = "PROPER_UNITTEST_FLIGHT_RECORDER"
#: Set by the library's runner to the ``--shuffle`` seed of the run.
SHUFFLE_SEED_VARIABLE = "PROPER_UNITTEST_SHUFFLE_SEED"

MAX_CHARS = 4000          # the whole appendix
MAX_LINE = 160            # one request, statement, email, task or broadcast
MAX_ITEMS = 12            # per section; the rest is counted
HEADER = "---- Flight recorder: what this test did ----"


def is_enabled(test: unittest.TestCase | type) -> bool:
    """Whether `test` (or every test of a test class) gets an appendix: the
    ``flight_recorder`` class attribute and the environment variable must
    both allow it."""
    if env_switch(SWITCH_VARIABLE) is False:
        return False
    return bool(getattr(test, "flight_recorder", True))


class ResultWithAppendix:
    """Stands in for the test result passed to ``TestCase.run``: failures
    and errors get the appendix as a note on their exception, then go on to
    the real result. Everything else is passed through unchanged."""

    def __init__(self, result: unittest.TestResult, test: unittest.TestCase,
                 recording: TestRecording) -> None:
        self._result = result
        self._test = test
        self._recording = recording

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)

    def addFailure(self, test: unittest.TestCase, err: _ExcInfo) -> None:  # noqa: N802 - unittest's name
        """Annotate, then report the failure."""
        self._annotate(err)
        self._result.addFailure(test, err)

    def addError(self, test: unittest.TestCase, err: _ExcInfo) -> None:  # noqa: N802 - unittest's name
        """Annotate, then report the error."""
        self._annotate(err)
        self._result.addError(test, err)

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase,  # noqa: N802 - unittest's name
                   err: _ExcInfo | None) -> None:
        """Annotate a failing subtest, then report it."""
        if err is not None:
            self._annotate(err)
        self._result.addSubTest(test, subtest, err)

    def _annotate(self, err: object) -> None:
        exception = err[1] if isinstance(err, tuple) and len(err) == 3 else None
        if not isinstance(exception, BaseException):
            return
        if any(str(note).startswith(HEADER) for note in getattr(exception, "__notes__", ())):
            return
        try:
            exception.add_note(appendix(self._test, self._recording))
        except Exception as problem:  # never hide the real failure
            exception.add_note(f"{HEADER}\n(could not be written: {problem!r})")


def appendix(test: unittest.TestCase, recording: TestRecording) -> str:
    """The appendix text for `test`, at most :data:`MAX_CHARS` long."""
    sections = [
        _section("Requests", [_describe_request(r) for r in recording.requests]),
        _sql_section(recording.sql.statements if recording.sql is not None else []),
        _section("Emails", [_describe_email(m) for m in outbox(recording.app)]),
        _section("Tasks", [entry.describe() for entry in recording.tasks.entries]),
        _section("Broadcasts", [f"{b.stream}: {b.data!r}" for b in recording.broadcasts.entries]),
    ]
    body = "\n".join(section for section in sections if section)
    rerun = "\n".join(f"  {line}" for line in reproducer_lines(test))
    text = f"{HEADER}\n{body or '(no requests, SQL, emails, tasks or broadcasts)'}"
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + "\n  ... (appendix cut)"
    off = f"(off: {SWITCH_VARIABLE}=0 or flight_recorder = False on the class)"
    return f"{text}\nRerun just this test:\n{rerun}\n{off}"


def reproducer_lines(test: unittest.TestCase) -> list[str]:
    """Commands that rerun exactly `test`: the library's runner (with the
    run's ``--shuffle`` seed, if any) and the pytest node id."""
    test_id = test.id()
    if "<locals>" in type(test).__qualname__:
        return ["(the test class is defined inside a function: no command reruns it alone)"]
    root = _import_root(test)
    label = test_id
    if root is not None and root != Path.cwd().resolve():
        label = f"{_relative(root)}:{test_id}"
    command = f"python -m proper_unittest {label}"
    seed = os.environ.get(SHUFFLE_SEED_VARIABLE)
    if seed:
        command += f" --shuffle={seed}"
    lines = [command]
    node_id = _pytest_node_id(test)
    if node_id:
        lines.append(f"pytest '{node_id}'")
    return lines


# ---- sections --------------------------------------------------------------


def _section(title: str, lines: list[str]) -> str:
    if not lines:
        return ""
    shown = lines[-MAX_ITEMS:]
    more = f"\n  ... and {len(lines) - len(shown)} earlier" if len(lines) > len(shown) else ""
    listing = "\n".join(f"  {_clip(line)}" for line in shown)
    return f"{title} ({len(lines)}):{more}\n{listing}"


def _sql_section(statements: list[str]) -> str:
    statements = apps_own(statements)
    if not statements:
        return ""
    counts = Counter(statements)
    # Most repeated first (an N+1 stands out), then first-run order.
    ordered = sorted(counts.items(), key=lambda item: -item[1])
    lines = [f"{count}x {sql}" if count > 1 else sql for sql, count in ordered[:MAX_ITEMS]]
    more = f"\n  ... and {len(ordered) - MAX_ITEMS} other statements" if len(ordered) > MAX_ITEMS else ""
    listing = "\n".join(f"  {_clip(line)}" for line in lines)
    repeated = sum(1 for count in counts.values() if count > 1)
    note = f", {repeated} repeated" if repeated else ""
    return f"SQL ({len(statements)} statements, {len(counts)} distinct{note}):\n{listing}{more}"


def _describe_request(response: "Response") -> str:
    line = f"{response.get('request', '?')} -> {response.status}"
    location = response.headers.get("location")
    if location and 300 <= response.status < 400:
        line += f" (Location: {location})"
    return line


def _describe_email(message: EmailMessage) -> str:
    return f"To: {message['To']!s}; Subject: {message['Subject']!s}"


def _clip(line: str) -> str:
    line = " ".join(str(line).split())
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 3] + "..."


# ---- where the test lives --------------------------------------------------


def _module_file(test: unittest.TestCase) -> Path | None:
    module = sys.modules.get(type(test).__module__)
    filename = getattr(module, "__file__", None)
    return Path(filename).resolve() if filename else None


def _import_root(test: unittest.TestCase) -> Path | None:
    """The directory the test's module is imported from."""
    path = _module_file(test)
    if path is None:
        return None
    depth = len(type(test).__module__.split("."))
    if path.name == "__init__.py":
        depth += 1
    root = path
    for _ in range(depth):
        root = root.parent
    return root


def _relative(path: Path) -> str:
    try:
        return os.path.relpath(path) or "."
    except ValueError:  # another drive
        return str(path)


def _pytest_node_id(test: unittest.TestCase) -> str | None:
    own = f"{type(test).__name__}::{test._testMethodName}"
    running = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
    if running.endswith(f"::{own}"):  # "path::Class::test (call)", set by pytest
        return running
    path = _module_file(test)
    if path is None:
        return None
    return f"{_relative(path)}::{own}"
