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

FAILED_OUTCOMES = ("failure", "error", "unexpected_success")

# How unittest names a failing class or module fixture: "setUpClass (tests.x.Cls)".
_FIXTURE = re.compile(r"(?P<name>\w+) \((?P<where>[\w.]+)\)")


class RecordingResult(unittest.TextTestResult):
    """unittest's text result, also keeping one record per test (see the module doc)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = []
        self._by_test = {}
        self._last_stop = time.perf_counter()

    def startTest(self, test):
        super().startTest(test)
        record = {
            "id": test.id(), "classname": _class_path(type(test)), "name": test._testMethodName,
            "file": _source_file(type(test)),
            "outcome": "passed", "time": 0.0, "wall": 0.0, "message": "", "detail": "",
        }
        self._by_test[id(test)] = record
        self.records.append(record)

    def stopTest(self, test):
        super().stopTest(test)
        now = time.perf_counter()
        record = self._by_test.pop(id(test), None)
        if record is not None:
            record["wall"] = now - self._last_stop
        self._last_stop = now

    def addDuration(self, test, elapsed):
        super().addDuration(test, elapsed)
        record = self._by_test.get(id(test))
        if record is not None:
            record["time"] = elapsed

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._note(test, "failure", err)

    def addError(self, test, err):
        super().addError(test, err)
        self._note(test, "error", err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            outcome = "failure" if issubclass(err[0], test.failureException) else "error"
            self._note(test, outcome, err, prefix=f"{subtest.id()}: ")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._note(test, "skipped", message=reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._note(test, "expected_failure", err)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._note(test, "unexpected_success", message="unexpected success")

    def _note(self, test, outcome, err=None, message="", prefix=""):
        record = self._by_test.get(id(test)) or self._fixture_record(test)
        if err is not None:
            message = f"{err[0].__name__}: {_first_line(err[1])}"
            record["detail"] = (record["detail"] + "\n" + self._exc_info_to_string(err, test)).strip("\n")
        if record["outcome"] not in FAILED_OUTCOMES:  # the first failure names the test's outcome
            record["outcome"] = outcome
            record["message"] = prefix + message

    def _fixture_record(self, holder):
        """A record for an error outside any test (a class or module fixture)."""
        description = holder.id()
        match = _FIXTURE.fullmatch(description)
        name, where = (match["name"], match["where"]) if match else (description, description)
        record = {
            "id": description, "classname": where, "name": name, "outcome": "passed",
            "time": 0.0, "wall": 0.0, "message": "", "detail": "", "fixture": True,
        }
        self.records.append(record)
        return record


def failed_ids(records):
    """Return the ids of the failed records (a fixture's: its class or module)."""
    return [
        record["classname"] if record.get("fixture") else record["id"]
        for record in records
        if record["outcome"] in FAILED_OUTCOMES
    ]


def _source_file(cls):
    """The file defining *cls*, relative to the current directory (the project) when inside it."""
    filename = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if not filename:
        return ""
    relative = os.path.relpath(filename)
    return filename if relative.startswith("..") else relative


def _class_path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _first_line(value):
    lines = str(value).strip().splitlines()
    return lines[0] if lines else ""
