"""Record what happened to each test: outcome, time, message and traceback.

The records feed the JUnit XML report, the durations that balance
``--shard``, and the list of failed tests that ``--failed`` reruns.  They
are plain dicts, so workers can send them to the parent as JSON:

``id``, ``classname``, ``name``: the test (``module.Class``, ``test_x``);
``file``: its module's file, relative to the project;
``outcome``: passed, failure, error, skipped, expected_failure or
unexpected_success; ``time``: the test's own duration; ``wall``: the time
since the previous test ended (so class and module fixtures count too);
``message`` and ``detail``: the first line and the full traceback.
"""

import os
import re
import sys
import time
import unittest
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from .journal import Journal
from ..errors import UnsafeDatabaseError, UnsafeServiceError

# Safety refusals: the first one stops the run, which exits 2.
REFUSALS = (UnsafeDatabaseError, UnsafeServiceError)

if TYPE_CHECKING:
    from _typeshed import OptExcInfo

#: Outcomes that fail a run; "not_run": the process running the test died first.
FAILED_OUTCOMES = ("failure", "error", "unexpected_success", "not_run")

# How unittest names a failing class or module fixture: "setUpClass (tests.x.Cls)".
_FIXTURE = re.compile(r"(?P<name>\w+) \((?P<where>[\w.]+)\)")


class _Record(TypedDict):
    """One test's record (see the module doc); a fixture's has ``fixture`` and no ``file``."""

    id: str
    classname: str
    name: str
    file: NotRequired[str]
    outcome: str
    time: float
    wall: float
    message: str
    detail: str
    fixture: NotRequired[bool]


class RecordingResult(unittest.TextTestResult):
    """unittest's text result, also keeping one record per test (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.records: list[_Record] = []
        #: Seconds per part of each test (by its description), when measured.
        self.time_spent: dict[str, dict[str, float]] = {}
        self._by_test: dict[int, _Record] = {}
        self._last_stop = time.perf_counter()
        self._journal = Journal()
        self._has_outcome: dict[int, bool] = {}
        #: How many errors were safety refusals; the first one stops the run.
        self.refused = 0

    def startTest(self, test: unittest.TestCase) -> None:
        self._journal.started(test.id())
        super().startTest(test)
        record: _Record = {
            "id": test.id(), "classname": _class_path(type(test)), "name": test._testMethodName,
            "file": _source_file(type(test)),
            "outcome": "passed", "time": 0.0, "wall": 0.0, "message": "", "detail": "",
        }
        self._by_test[id(test)] = record
        self.records.append(record)

    def stopTest(self, test: unittest.TestCase) -> None:
        super().stopTest(test)
        now = time.perf_counter()
        record = self._by_test.pop(id(test), None)
        if record is not None:
            record["wall"] = now - self._last_stop
            if self._has_outcome.pop(id(test), False):  # not cut short (a KeyboardInterrupt)
                self._journal.done(record)
        self._last_stop = now

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._has_outcome[id(test)] = True

    def addDuration(self, test: unittest.TestCase, elapsed: float) -> None:
        super().addDuration(test, elapsed)
        record = self._by_test.get(id(test))
        if record is not None:
            record["time"] = elapsed
        spent = getattr(test, "_time_spent", None)
        if spent is not None:
            # --durations shows where the slowest tests' time went.
            self.time_spent[str(test)] = spent.summary()

    def addFailure(self, test: unittest.TestCase, err: "OptExcInfo") -> None:
        super().addFailure(test, err)
        self._note(test, "failure", err)

    def addError(self, test: unittest.TestCase, err: "OptExcInfo") -> None:
        super().addError(test, err)
        self._note(test, "error", err)
        if err[0] is not None and issubclass(err[0], REFUSALS):
            self.refused += 1
            self.stop()  # nothing more runs: the run is refused (exit 2)

    def _exc_info_to_string(self, err: "OptExcInfo", test: unittest.TestCase) -> str:
        # A refusal is a message for the user, not a traceback.
        if err[0] is not None and issubclass(err[0], REFUSALS):
            return f"{err[0].__name__}: {err[1]}\n"
        text: str = super()._exc_info_to_string(err, test)  # type: ignore[misc]  # private, not in typeshed
        return text

    def addSubTest(
        self, test: unittest.TestCase, subtest: unittest.TestCase, err: "OptExcInfo | None",
    ) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None and err[0] is not None:
            outcome = "failure" if issubclass(err[0], test.failureException) else "error"
            self._note(test, outcome, err, prefix=f"{subtest.id()}: ")

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self._note(test, "skipped", message=reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: "OptExcInfo") -> None:
        super().addExpectedFailure(test, err)
        self._note(test, "expected_failure", err)

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self._note(test, "unexpected_success", message="unexpected success")

    def _note(
        self, test: unittest.TestCase, outcome: str,
        err: "OptExcInfo | None" = None, message: str = "", prefix: str = "",
    ) -> None:
        self._has_outcome[id(test)] = True
        record = self._by_test.get(id(test)) or self._fixture_record(test)
        if err is not None and err[0] is not None:
            message = f"{err[0].__name__}: {_first_line(err[1])}"
            # unittest's own traceback formatting: private, so not in typeshed.
            detail = self._exc_info_to_string(err, test)
            record["detail"] = (record["detail"] + "\n" + detail).strip("\n")
        if record["outcome"] not in FAILED_OUTCOMES:  # the first failure names the test's outcome
            record["outcome"] = outcome
            record["message"] = prefix + message
        if record.get("fixture"):
            self._journal.done(record)

    def _fixture_record(self, holder: unittest.TestCase) -> _Record:
        """A record for an error outside any test (a class or module fixture)."""
        description = holder.id()
        match = _FIXTURE.fullmatch(description)
        name, where = (match["name"], match["where"]) if match else (description, description)
        record: _Record = {
            "id": description, "classname": where, "name": name, "outcome": "passed",
            "time": 0.0, "wall": 0.0, "message": "", "detail": "", "fixture": True,
        }
        self.records.append(record)
        return record


def failed_ids(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Return the ids of the failed records (a fixture's: its class or module)."""
    return [
        record["classname"] if record.get("fixture") else record["id"]
        for record in records
        if record["outcome"] in FAILED_OUTCOMES
    ]


def _source_file(cls: type) -> str:
    """The file defining *cls*, relative to the current directory (the project) when inside it."""
    filename: str | None = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if not filename:
        return ""
    relative = os.path.relpath(filename)
    return filename if relative.startswith("..") else relative


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _first_line(value: object) -> str:
    lines = str(value).strip().splitlines()
    return lines[0] if lines else ""
