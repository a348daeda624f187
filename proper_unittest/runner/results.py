"""Count test outcomes, add them up across processes and format the summaries."""

import json
import os
import unittest
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Self

from .._time_spent import describe


@dataclass
class Counts:
    """Outcome counts of one or more test runs.

    ``passed`` counts the tests that ran with no failure, error, skip,
    expected failure or unexpected success; ``failed`` is failures + errors
    + unexpected successes (so a failing subtest or a failing ``setUpClass``
    each count as one failure, as in unittest's own ``FAILED (...)`` line),
    less ``repeats``: a test reported more than once (a failure, then an
    error in its ``tearDown`` or a cleanup) is one failed test.
    """

    tests_run: int = 0
    passed: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    expected_failures: int = 0
    unexpected_successes: int = 0
    #: Tests that never ran because the process running them died.
    not_run: int = 0
    #: Failure/error reports beyond the first for the same test.
    repeats: int = 0
    #: Errors that were safety refusals (UnsafeDatabaseError, UnsafeServiceError): the run exits 2.
    refused: int = 0
    #: ``[test description, seconds]`` per test (lists: they travel as JSON).
    durations: list[list[Any]] = field(default_factory=list)
    #: One dict per test (see records.py): for JUnit XML, durations and --failed.
    records: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_result(cls, result: unittest.TestResult) -> Self:
        """Build the counts of a finished ``unittest.TestResult``."""
        outcomes = (
            result.failures, result.errors, result.skipped,
            result.expectedFailures, result.unexpectedSuccesses,
        )
        tests = (_outcome_test(item) for outcome in outcomes for item in outcome)
        not_passed = {id(test) for test in tests if test is not None}
        reports = [*(test for test, _ in (*result.failures, *result.errors)), *result.unexpectedSuccesses]
        return cls(
            tests_run=result.testsRun,
            passed=max(result.testsRun - len(not_passed), 0),
            failures=len(result.failures),
            errors=len(result.errors),
            skipped=len(result.skipped),
            expected_failures=len(result.expectedFailures),
            unexpected_successes=len(result.unexpectedSuccesses),
            repeats=len(reports) - len({id(test) for test in reports}),
            refused=int(getattr(result, "refused", 0)),
            durations=_with_time_spent(getattr(result, "collectedDurations", []), getattr(result, "time_spent", {})),
            records=list(getattr(result, "records", [])),
        )

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Self:
        """Build the counts of a process that died, from the records it left
        (see journal.py), the lost ones included."""
        counts = cls(records=[dict(record) for record in records])
        field_of = {"failure": "failures", "error": "errors", "skipped": "skipped",
                    "expected_failure": "expected_failures", "unexpected_success": "unexpected_successes",
                    "not_run": "not_run"}
        for record in counts.records:
            outcome = record["outcome"]
            if outcome in field_of:
                setattr(counts, field_of[outcome], getattr(counts, field_of[outcome]) + 1)
            if record.get("fixture") or outcome == "not_run":
                continue
            counts.tests_run += 1
            counts.passed += outcome == "passed"
            counts.durations.append([record["id"], record["time"]])
        return counts

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self | None:
        """Read counts written by :meth:`dump`; None if the file is missing or unreadable."""
        try:
            with open(path, encoding="utf-8") as file:
                return cls(**json.load(file))
        except (OSError, ValueError, TypeError):
            return None

    @classmethod
    def broken(cls) -> Self:
        """Counts for a suite or worker that crashed before reporting: one error."""
        return cls(errors=1)

    def dump(self, path: str | os.PathLike[str]) -> None:
        """Write the counts to *path* as JSON."""
        with open(path, "w", encoding="utf-8") as file:
            json.dump(asdict(self), file)

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(
            tests_run=self.tests_run + other.tests_run,
            passed=self.passed + other.passed,
            failures=self.failures + other.failures,
            errors=self.errors + other.errors,
            skipped=self.skipped + other.skipped,
            expected_failures=self.expected_failures + other.expected_failures,
            unexpected_successes=self.unexpected_successes + other.unexpected_successes,
            not_run=self.not_run + other.not_run,
            repeats=self.repeats + other.repeats,
            refused=self.refused + other.refused,
            durations=self.durations + other.durations,
            records=self.records + other.records,
        )

    @property
    def failed(self) -> int:
        """The failed tests: failures + errors + unexpected successes, each
        test once."""
        return self.failures + self.errors + self.unexpected_successes - self.repeats

    @property
    def successful(self) -> bool:
        """True when nothing failed and every test ran."""
        return self.failed == 0 and self.not_run == 0

    def summary_line(self) -> str:
        """Return ``N passed, N failed`` (``, N skipped``, ``, N not run``
        when any): the line CI reads."""
        line = f"{self.passed} passed, {self.failed} failed"
        if self.skipped:
            line += f", {self.skipped} skipped"
        if self.not_run:
            line += f", {self.not_run} not run"
        return line

    def status_line(self) -> str:
        """Return unittest's closing line: ``OK (...)`` or ``FAILED (...)``."""
        infos: list[str] = []
        if not self.successful:
            infos += [f"failures={self.failures}"] if self.failures else []
            infos += [f"errors={self.errors}"] if self.errors else []
        infos += [f"skipped={self.skipped}"] if self.skipped else []
        infos += [f"expected failures={self.expected_failures}"] if self.expected_failures else []
        if self.unexpected_successes:
            infos.append(f"unexpected successes={self.unexpected_successes}")
        infos += [f"not run={self.not_run}"] if self.not_run else []
        status = "OK" if self.successful else "FAILED"
        return f"{status} ({', '.join(infos)})" if infos else status


def _with_time_spent(durations: Iterable[Sequence[Any]], spent: dict[str, dict[str, float]]) -> list[list[Any]]:
    """unittest's ``(test, seconds)`` pairs as lists, each with its seconds
    per part when they were measured."""
    return [[*item, spent[item[0]]] if item[0] in spent else list(item) for item in durations]


class DurationsRunner(unittest.TextTestRunner):
    """unittest's text runner, whose ``--durations`` report also says where
    each slow test's time went when it was measured."""

    def _printDurations(self, result: unittest.TestResult) -> None:
        collected = getattr(result, "collectedDurations", [])
        if not collected:
            return
        durations = _with_time_spent(collected, getattr(result, "time_spent", {}))
        for line in format_durations(durations, self.durations or 0, self.verbosity):
            self.stream.writeln(line)


def format_durations(durations: Iterable[Sequence[Any]], count: int, verbosity: int) -> list[str]:
    """Return the lines of unittest's "Slowest test durations" report for *durations*.

    *durations* is a list of ``(test description, seconds)``, each with a
    third item (seconds per part, see ``_time_spent``) when the run measured
    where the time went; *count* 0 shows all.
    """
    slowest = sorted(durations, key=lambda item: item[1], reverse=True)
    if count > 0:
        slowest = slowest[:count]
    lines = ["Slowest test durations", unittest.TextTestResult.separator2]
    hidden = False
    for test, elapsed, *spent in slowest:
        if verbosity < 2 and elapsed < 0.001:
            hidden = True
            continue
        lines.append("%-10s %s" % (f"{elapsed:.3f}s", test))
        if spent:
            lines.append(" " * 11 + describe(spent[0], elapsed))
    if hidden:
        lines += ["", "(durations < 0.001s were hidden; use -v to show these durations)"]
    return lines + [""]


def _outcome_test(item: object) -> unittest.TestCase | None:
    """Return the test an outcome entry is about (a subtest's own test), or None.

    Errors of class and module fixtures are reported on stand-in objects
    that are not tests and were never counted in ``testsRun``.
    """
    test = item[0] if isinstance(item, tuple) else item  # unexpectedSuccesses holds bare tests
    test = getattr(test, "test_case", test)
    return test if isinstance(test, unittest.TestCase) else None
