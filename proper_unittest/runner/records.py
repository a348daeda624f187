"""Record what happened to each test: outcome, time, message and traceback.

The records feed the JUnit XML report, the durations that balance
``--shard``, and the list of failed tests that ``--failed`` reruns.  They
are plain dicts, so workers can send them to the parent as JSON:

``id``, ``classname``, ``name``: the test (``module.Class``, ``test_x``);
``file``: its module's file, relative to the project;
``outcome``: passed, failure, error, skipped, expected_failure or
unexpected_success; ``time``: the test's own duration; ``wall``: the time
since the previous test ended (so class and module fixtures count too);
``message`` and ``detail``: the first line and the full traceback
(``error_type``: the exception's class name, when there is one);
``subtests_failed`` and ``subtests_skipped``: how many of its sub-tests
failed (or raised) and were skipped, when any (a test with failing
sub-tests is one failed test).

A test that never started because its class's ``setUpClass`` (or its
module's ``setUpModule``) failed or raised ``SkipTest`` gets a record of its
own, an error or a skip naming the fixture, marked ``unreached``: unittest
reports such a fixture once and does not count the tests it stopped, so
without it "Ran N", the summary and the JUnit report would each count
something else.  An error in ``tearDownClass`` or ``tearDownModule`` is
the outcome of the last test of that class or module (it failed if nothing
else did).  Only an error no test can be found for (the runner did not
say which tests it runs, see :meth:`RecordingResult.plan`) keeps a record
of its own, marked ``fixture``.
"""

import functools
import os
import re
import sys
import time
import unittest
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict, cast

from .journal import Journal
from ..errors import ConfigurationError
from ..isolation.timeout import limit_for, limit_from_environment

# Refusals: a database or service that is not safe to test
# (UnsafeDatabaseError, UnsafeServiceError), a misconfigured test class or
# project, a driver that is not installed. The first one stops the run,
# which exits 2, and is reported by its message alone.
REFUSALS = (ConfigurationError,)

if TYPE_CHECKING:
    from _typeshed import OptExcInfo

#: Outcomes that fail a run; "not_run": the process running the test died first.
FAILED_OUTCOMES = ("failure", "error", "unexpected_success", "not_run")

# How unittest names a failing class or module fixture: "setUpClass (tests.x.Cls)".
_FIXTURE = re.compile(r"(?P<name>\w+) \((?P<where>[\w.]+)\)")
#: The fixtures whose failure stops the tests of their class or module.
_SET_UPS = {"setUpClass": "class", "setUpModule": "module"}
#: The fixtures that run after the tests of their class or module.
_TEAR_DOWNS = {"tearDownClass": "class", "tearDownModule": "module"}


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
    error_type: NotRequired[str]
    subtests_failed: NotRequired[int]
    subtests_skipped: NotRequired[int]
    unreached: NotRequired[bool]
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
        #: The first refusal's message.
        self.refusal = ""
        # The tests the run will start, in order (see plan()), and where it
        # is; a test's place is emptied when it starts, so that the plan does
        # not keep a finished test (and all it made) alive to the run's end.
        self._planned: list[unittest.TestCase | None] = []
        self._index_of: dict[int, int] = {}
        self._next = 0
        # The last record of each class and module, for their tearDown errors.
        self._last_of: dict[tuple[str, str], _Record] = {}
        # The records a failed set-up fixture stood for (its clean-ups' errors go there too).
        self._unreached_by: dict[str, list[_Record]] = {}

    def plan(self, tests: Iterable[unittest.TestCase]) -> None:
        """Say which tests the run will start, in order: the tests a failing
        ``setUpClass``/``setUpModule`` stops then get records of their own."""
        self._planned = list(tests)
        self._index_of = {id(test): index for index, test in enumerate(self._planned)}
        self._next = 0
        self._journal.planned([test.id() for test in self._planned if test is not None])

    def startTest(self, test: unittest.TestCase) -> None:
        record = _test_record(test)
        journal = self._journal
        journal.started(record["id"], _time_limit(test) if journal.keeps else None)
        super().startTest(test)
        self._by_test[id(test)] = record
        self.records.append(record)
        self._started(test, record)

    def _started(self, test: unittest.TestCase, record: _Record) -> None:
        """Note that *test* has a record: the last of its class and module so far."""
        index = self._index_of.pop(id(test), None)
        if index is not None:
            self._planned[index] = None
            self._next = max(self._next, index + 1)
        self._last_of[("class", record["classname"])] = record
        self._last_of[("module", type(test).__module__)] = record

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
        if err[0] is not None and issubclass(err[0], REFUSALS):
            unittest.TestResult.addError(self, test, err)  # no progress mark: the refusal is shown alone
        else:
            super().addError(test, err)
        if not self._fixture_outcome(test, "error", err):
            self._note(test, "error", err)
        if err[0] is not None and issubclass(err[0], REFUSALS):
            self.refused += 1
            self.refusal = self.refusal or str(err[1])
            self.stop()  # nothing more runs: the run is refused (exit 2)

    def printErrors(self) -> None:
        """unittest's listing of errors and failures; nothing for a refused
        run, whose refusal is shown alone (bad input, see session.finish)."""
        if not self.refused:
            super().printErrors()

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
            self._count_subtest(test, "subtests_failed")
            self._note(test, outcome, err, prefix=f"{subtest.id()}: ")

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        parent = getattr(test, "test_case", None)
        if isinstance(parent, unittest.TestCase):  # a skipped sub-test: its test goes on
            self._has_outcome[id(parent)] = True
            self._count_subtest(parent, "subtests_skipped")
        elif not self._fixture_outcome(test, "skipped", message=reason):
            self._note(test, "skipped", message=reason)

    def _count_subtest(
        self, test: unittest.TestCase, key: Literal["subtests_failed", "subtests_skipped"],
    ) -> None:
        record = self._by_test.get(id(test))
        if record is not None:
            record[key] = record.get(key, 0) + 1

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
        self._give(record, test, outcome, err, message, prefix)
        if record.get("fixture"):
            self._journal.done(record)

    def _give(
        self, record: _Record, test: unittest.TestCase, outcome: str,
        err: "OptExcInfo | None" = None, message: str = "", prefix: str = "",
    ) -> None:
        """Note *outcome* (with *err* or *message*) in *record*; the first
        failure names the test's outcome, every traceback is kept."""
        if err is not None and err[0] is not None:
            message = f"{err[0].__name__}: {_first_line(err[1])}"
            # unittest's own traceback formatting: private, so not in typeshed.
            detail = self._exc_info_to_string(err, test)
            record["detail"] = (record["detail"] + "\n" + prefix + detail).strip("\n")
        if record["outcome"] not in FAILED_OUTCOMES:
            record["outcome"] = outcome
            record["message"] = prefix + message
            if err is not None and err[0] is not None:
                record["error_type"] = err[0].__name__

    def _fixture_outcome(
        self, holder: unittest.TestCase, outcome: str, err: "OptExcInfo | None" = None, message: str = "",
    ) -> bool:
        """Give a class or module fixture's error (or skip) to the tests it
        concerns (see the module doc); False when *holder* is a test, or no
        test is found."""
        if isinstance(holder, unittest.TestCase):
            return False
        match = _FIXTURE.fullmatch(str(holder))
        if match is None:
            return False
        fixture, where = match["name"], match["where"]
        prefix = f"{fixture}: "
        if fixture in _TEAR_DOWNS:
            last = self._last_of.get((_TEAR_DOWNS[fixture], where))
            if last is None:
                return False
            self._give(last, holder, outcome, err, message, prefix)
            self._journal.done(last)
            return True
        if fixture not in _SET_UPS:
            return False
        records = self._unreached_by.get(str(holder))
        if records is None:  # its first error: the tests it stops, from where the run is
            kind, records = _SET_UPS[fixture], []
            while self._next < len(self._planned) and _key(_unstarted(self._planned[self._next]), kind) == where:
                test = _unstarted(self._planned[self._next])
                self._next += 1
                record = _test_record(test)
                record["unreached"] = True
                self.records.append(record)
                self._started(test, record)
                records.append(record)
            if not records:
                return False
            self._unreached_by[str(holder)] = records
        for record in records:
            self._give(record, holder, outcome, err, message, prefix)
            self._journal.done(record)
        return True

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


def failed_ids(records: Iterable[Mapping[str, Any]], tests_only: bool = False) -> list[str]:
    """Return the ids of the failed records, in run order, once each: a
    fixture's is its class or module, left out with *tests_only*."""
    return list(dict.fromkeys(
        record["classname"] if record.get("fixture") else record["id"]
        for record in records
        if record["outcome"] in FAILED_OUTCOMES and not (tests_only and record.get("fixture"))
    ))


def _time_limit(test: unittest.TestCase) -> float | None:
    """The time limit of *test* for the journal (see overdue.py): its
    class's, for a library test case, else --timeout's (a plain TestCase
    has no alarm of its own); None without one, or with a bad one (the
    test reports that itself)."""
    try:
        if hasattr(type(test), "_time_limit"):
            return limit_for(type(test))
        return limit_from_environment()
    except ConfigurationError:
        return None


def _test_record(test: unittest.TestCase) -> _Record:
    """A new record for *test*: passed until something says otherwise."""
    classname, file = _class_facts(cast(type, type(test)), os.getcwd())
    return {
        "id": test.id(), "classname": classname, "name": test._testMethodName, "file": file,
        "outcome": "passed", "time": 0.0, "wall": 0.0, "message": "", "detail": "",
    }


@functools.cache
def _class_facts(cls: type, cwd: str) -> tuple[str, str]:
    # Once per class (and working directory), not per test.
    return _class_path(cls), _source_file(cls, cwd)


def _unstarted(test: unittest.TestCase | None) -> unittest.TestCase:
    """A planned test from the run's place on (only a started test's place is emptied)."""
    assert test is not None
    return test


def _key(test: unittest.TestCase, kind: str) -> str:
    """The class path (*kind* "class") or module name ("module") of *test*."""
    return _class_path(type(test)) if kind == "class" else type(test).__module__


def _source_file(cls: type, cwd: str) -> str:
    """The file defining *cls*, relative to *cwd* (the project) when inside it."""
    filename: str | None = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if not filename:
        return ""
    return _relative_to(filename, cwd)


@functools.cache
def _relative_to(filename: str, folder: str) -> str:
    # Once per file and folder (not per test): relpath is pure Python work.
    relative = os.path.relpath(filename, folder)
    return filename if relative.startswith("..") else relative


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _first_line(value: object) -> str:
    lines = str(value).strip().splitlines()
    return lines[0] if lines else ""
