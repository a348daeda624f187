"""Count test outcomes, add them up across processes and format the summaries."""

import json
import os
import time
import unittest
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Self

from ..recording.time_spent import describe
from .order import iter_tests
from .standard_fds import StandardDescriptors


@dataclass
class Counts:
    """Outcome counts of one or more test runs, one outcome per test.

    Every test that ran (``tests_run``, unittest's "Ran N") is exactly one
    of: passed (``passed``, expected failures included), failed
    (``failures``: an assertion failed; ``errors``: it raised, in its
    set-up, body, tear-down or its class's fixtures; ``unexpected_successes``)
    or skipped. A test reported more than once (failing sub-tests, a
    failure and then an error in its ``tearDown``) counts once, by its first
    report; its failed and skipped sub-tests are counted beside it. Tests
    stopped by a failing (or skipping) ``setUpClass``/``setUpModule`` count
    as errors (skips), as records.py explains. So ``passed + failed +
    skipped == tests_run``, and every message of a run uses these numbers.
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
    #: Failed sub-tests, and the tests holding them.
    subtests_failed: int = 0
    tests_with_failed_subtests: int = 0
    #: Skipped sub-tests, and the tests holding them.
    subtests_skipped: int = 0
    tests_with_skipped_subtests: int = 0
    #: Test processes that died, or reported nothing, outside any test.
    crashed: int = 0
    #: Errors that were refusals (a ConfigurationError: an unsafe database or service, a misconfigured class): the run exits 2.
    refused: int = 0
    #: What the first refusal (or a worker's usage error) said.
    refusal: str = ""
    #: ``[test description, seconds]`` per test (lists: they travel as JSON).
    durations: list[list[Any]] = field(default_factory=list)
    #: One dict per test (see records.py): for JUnit XML, durations and --failed.
    records: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_result(cls, result: unittest.TestResult) -> Self:
        """Build the counts of a finished run from the records of its
        ``RecordingResult`` (see records.py)."""
        counts = cls.from_records(getattr(result, "records", []))
        counts.refused = int(getattr(result, "refused", 0))
        counts.refusal = str(getattr(result, "refusal", ""))
        counts.durations = _with_time_spent(
            getattr(result, "collectedDurations", []), getattr(result, "time_spent", {}))
        return counts

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Self:
        """Build the counts of *records* (see records.py): those of a run,
        or those a process that died left in its journal (journal.py), the
        lost ones included. A record standing for a fixture no test was
        found for counts as one test."""
        counts = cls(records=[dict(record) for record in records])
        field_of = {"failure": "failures", "error": "errors", "skipped": "skipped",
                    "expected_failure": "expected_failures", "unexpected_success": "unexpected_successes",
                    "not_run": "not_run"}
        for record in counts.records:
            outcome = record["outcome"]
            if outcome in field_of:
                setattr(counts, field_of[outcome], getattr(counts, field_of[outcome]) + 1)
            if outcome == "not_run":
                continue
            counts.tests_run += 1
            counts.passed += outcome in ("passed", "expected_failure")
            failed_subtests = record.get("subtests_failed", 0)
            counts.subtests_failed += failed_subtests
            counts.tests_with_failed_subtests += failed_subtests > 0
            skipped_subtests = record.get("subtests_skipped", 0)
            counts.subtests_skipped += skipped_subtests
            counts.tests_with_skipped_subtests += skipped_subtests > 0
            if not (record.get("fixture") or record.get("unreached")):
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
        """Counts for a suite or worker that crashed before reporting (outside any test)."""
        return cls(crashed=1)

    def dump(self, path: str | os.PathLike[str]) -> None:
        """Write the counts to *path* as JSON."""
        with open(path, "w", encoding="utf-8") as file:
            json.dump(asdict(self), file)

    def __add__(self, other: "Counts") -> "Counts":
        added = {
            item.name: getattr(self, item.name) + getattr(other, item.name)
            for item in fields(self) if item.name != "refusal"
        }
        return Counts(**added, refusal=self.refusal or other.refusal)

    @property
    def failed(self) -> int:
        """The failed tests: failures + errors + unexpected successes."""
        return self.failures + self.errors + self.unexpected_successes

    @property
    def successful(self) -> bool:
        """True when nothing failed, every test ran and no test process died."""
        return self.failed == 0 and self.not_run == 0 and self.crashed == 0

    def summary_line(self) -> str:
        """Return ``N passed, N failed`` (``, N skipped``, ``, N not run``
        when any), then what the tests held in parentheses (failed and
        skipped sub-tests, expected failures) and test processes that
        died outside any test: the line CI reads. passed + failed +
        skipped is the "Ran N" of the run."""
        line = f"{self.passed} passed, {self.failed} failed"
        if self.skipped:
            line += f", {self.skipped} skipped"
        if self.not_run:
            line += f", {self.not_run} not run"
        notes = []
        if self.subtests_failed:
            notes.append(f"{_plural(self.subtests_failed, 'failed sub-test')} "
                         f"in {_plural(self.tests_with_failed_subtests, 'test')}")
        if self.subtests_skipped:
            notes.append(f"{_plural(self.subtests_skipped, 'skipped sub-test')} "
                         f"in {_plural(self.tests_with_skipped_subtests, 'test')}")
        if self.expected_failures:
            notes.append(f"{_plural(self.expected_failures, 'expected failure')} among the passed")
        if notes:
            line += f" ({', '.join(notes)})"
        if self.crashed:
            line += f"; {_plural(self.crashed, 'test process', 'test processes')} died outside any test"
        return line

    def ran_line(self, elapsed: float, workers: int = 0) -> str:
        """Return unittest's ``Ran N tests in Xs`` line (``with N worker processes``)."""
        line = f"Ran {_plural(self.tests_run, 'test')} in {elapsed:.3f}s"
        return line + f" with {workers} worker processes" if workers else line

    def status_line(self) -> str:
        """Return unittest's closing line, ``OK (...)`` or ``FAILED (...)``,
        counting tests as :meth:`summary_line` does."""
        infos: list[str] = []
        infos += [f"failures={self.failures}"] if self.failures else []
        infos += [f"errors={self.errors}"] if self.errors else []
        infos += [f"skipped={self.skipped}"] if self.skipped else []
        infos += [f"expected failures={self.expected_failures}"] if self.expected_failures else []
        if self.unexpected_successes:
            infos.append(f"unexpected successes={self.unexpected_successes}")
        infos += [f"not run={self.not_run}"] if self.not_run else []
        infos += [f"crashed={self.crashed}"] if self.crashed else []
        status = "OK" if self.successful else "FAILED"
        return f"{status} ({', '.join(infos)})" if infos else status


def _plural(count: int, singular: str, plural: str = "") -> str:
    """``1 test``, ``2 tests``."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def _with_time_spent(durations: Iterable[Sequence[Any]], spent: dict[str, dict[str, float]]) -> list[list[Any]]:
    """unittest's ``(test, seconds)`` pairs as lists, each with its seconds
    per part when they were measured."""
    return [[*item, spent[item[0]]] if item[0] in spent else list(item) for item in durations]


class CountingRunner(unittest.TextTestRunner):
    """unittest's text runner, closing with "Ran N tests" and ``OK``/``FAILED``
    counted by :class:`Counts` (one outcome per test, as the summary line),
    and whose ``--durations`` report also says where each slow test's time
    went when it was measured. Use it with ``resultclass=RecordingResult``;
    :attr:`counts` holds the last run's counts."""

    counts: Counts | None = None

    def run(self, test: unittest.TestSuite | unittest.TestCase) -> unittest.TextTestResult:
        """Run *test* as unittest's runner does; close with the counts of the run."""
        result = self._makeResult()
        unittest.registerResult(result)
        result.failfast, result.buffer, result.tb_locals = self.failfast, self.buffer, self.tb_locals
        plan = getattr(result, "plan", None)
        if plan is not None:  # the tests a failing class fixture stops are counted too
            plan(iter_tests(test) if isinstance(test, unittest.TestSuite) else [test])
        with warnings.catch_warnings():
            if self.warnings:
                warnings.simplefilter(self.warnings)
            started = time.perf_counter()
            standard = StandardDescriptors().keep()
            result.startTestRun()
            try:
                test(result)
            finally:
                try:
                    result.stopTestRun()
                finally:
                    standard.put_back()  # the report goes where the run's output goes
            elapsed = time.perf_counter() - started
        result.printErrors()
        if self.durations is not None:
            self._printDurations(result)
        self.counts = counts = Counts.from_result(result)
        if counts.refused:  # shown alone by the caller (session.finish)
            return result
        self.stream.writeln(unittest.TextTestResult.separator2)
        self.stream.writeln(counts.ran_line(elapsed))
        self.stream.writeln()
        self.stream.writeln(counts.status_line())
        self.stream.flush()
        return result

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
    third item (seconds per part, see ``recording.time_spent``) when the run measured
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
