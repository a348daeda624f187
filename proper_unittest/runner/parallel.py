"""Run a list of tests split among parallel workers (``--parallel N``).

This process (the controller) runs no test: it owns the summary, the
JUnit XML and ``failed.json``, and nothing a test does can take them with
it. Workers 1..N are the runner itself, started with the same labels plus
``--worker K --ids-file - --results-file FILE`` and with
``PROPER_UNITTEST_WORKER=K`` in their environment. When the options or the
recorded durations say the run is parallel, they start before this process
has loaded the tests and load them meanwhile. Each then reads the ids of
its share on stdin, runs those in that order, and writes its counts; one
whose stdin closes with no ids is dismissed and exits having touched
nothing. Worker output is collected and printed worker by worker, so it
does not interleave.

Workers are forked from this process once it has loaded the tests, when
that is safe (forking.py): they start with everything imported and run
their share (``--worker K`` in all but name); otherwise they are new
interpreters, started before the tests are loaded when the run is known
to be parallel.

A worker that dies (``os._exit()``, a segfault, a signal) is known by its
missing results. Its journal (journal.py) says which test it was in: that
test is an error ("WorkerDied"); the tests it had finished keep their
records; the databases it created are dropped; the tests of its share it
never started go to a new worker (at most :data:`MAX_REPLACEMENTS` per
run), or are reported as not run, which fails the run.

A worker refused its database (UnsafeDatabaseError: unsafe, held by
another run) or stopped by bad input writes that in its results and exits
2; this process then stops the other workers (each drops what it created)
and ends the run with that one message and exit status 2, as a serial run
refused before its first test does.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import unittest
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import PIPE, Popen
from types import TracebackType
from typing import NamedTuple

from ..databases import provision as _provision
from . import coverage_support
from .forking import ForkedProcess, fork_worker, why_not_fork
from .journal import JOURNAL_ENV, describe_exit, keep_journal_in, lost_record, read_journal
from .overdue import KILLED_OVERDUE, OverdueWatch
from .order import partition_tests
from .problems import UsageError, info
from .procs import WORKER_ENV, child_command, child_env, start_runner, stop_processes
from .supervisor import leave_supervision, run_folder
from .results import Counts, format_durations
from .signals import forget_children, forwarding_to

#: ``--ids-file`` value telling a worker to read its ids on stdin.
IDS_ON_STDIN = "-"
#: The most new workers a run starts for the tests dead workers left.
MAX_REPLACEMENTS = 2

#: Runs a forked worker's share: ``(worker number, its tests, its results
#: file) -> exit status``, as ``--worker K --results-file FILE`` would.
ShareRunner = Callable[[int, list[unittest.TestCase], Path], int]


class WorkerFiles(NamedTuple):
    """The files a worker reports through, in the pool's folder."""

    output: Path  # its stdout and stderr
    results: Path  # its counts, written when it has run its share
    journal: Path  # the tests it has started and finished, as it goes
    created: Path  # the databases it has created


def worker_files(folder: Path, number: int) -> WorkerFiles:
    """The files of worker *number*."""
    kinds = ("output.txt", "results.json", "journal.jsonl", "created.jsonl")
    return WorkerFiles(*(folder / f"worker{number}-{kind}" for kind in kinds))


@dataclass
class Worker:
    """A worker process, the files it reports through, and its share."""

    number: int
    process: Popen[bytes] | ForkedProcess
    files: WorkerFiles
    ids: list[str] | None = None  # None until it is given its share
    #: Kills it when its test runs far past its time limit (see overdue.py).
    overdue: OverdueWatch = field(init=False)

    def __post_init__(self) -> None:
        self.overdue = OverdueWatch(self.files.journal)


class WorkerPool:
    """The worker processes of one run (see the module docstring).

    Use as a context manager: on leaving it, every worker not given a share
    is dismissed, every one still running is stopped (killed if it does not
    stop in time), the databases of those that died are dropped, and their
    files go.
    """

    def __init__(self, args: argparse.Namespace, cwd: Path, run_share: ShareRunner | None = None) -> None:
        """*run_share*: how a forked worker runs its share; None: workers
        are always new interpreters."""
        self.args, self.cwd = args, cwd
        self.run_share = run_share
        self.workers: list[Worker] = []
        self._tests: dict[str, unittest.TestCase] = {}
        self._stack = ExitStack()
        self._folder: Path | None = None
        self._refusal: str | None = None  # why the workers are not forked (see forks())

    def __enter__(self) -> "WorkerPool":
        return self

    @property
    def _tmp(self) -> Path:
        """The workers' files' folder, made when the first worker starts."""
        if self._folder is None:
            # Removed on leaving the pool, in this process only (a forked
            # worker must not take it with it when it exits).
            self._folder = Path(tempfile.mkdtemp(prefix="proper_unittest-", dir=run_folder()))
            self._stack.callback(shutil.rmtree, self._folder, ignore_errors=True)
        return self._folder

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        try:
            for worker in self.workers:
                if worker.ids is None:
                    _close_stdin(worker)
            if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
                # A worker blocked in a query sees the signal once the query ends.
                for worker in self.workers:
                    _provision.cancel_noted_queries(worker.files.created)
            # On SIGTERM/SIGINT the workers got the signal too: wait for their clean-up.
            stop_processes([worker.process for worker in self.workers])
            for worker in self.workers:
                # Killed (by a signal it did not handle: say, during its exit
                # hooks) or no report: what it created may still be there.
                if not worker.files.results.exists() or (worker.process.returncode or 0) < 0:
                    _provision.drop_created_databases(worker.files.created)
        finally:
            self._stack.close()

    def forks(self) -> bool:
        """True if this pool's workers will be forked (see forking.py); if
        not, why is kept for :meth:`say_how_started`."""
        if self.run_share is None:
            self._refusal = "this run does not fork its workers"
        elif self.workers:  # started before the tests were loaded, for the reason then
            self._refusal = self._refusal or "workers were started already"
        else:
            self._refusal = why_not_fork()
        return self._refusal is None

    def say_how_started(self, forked: bool) -> None:
        """With ``-v``, say whether the workers were forked or, if not, why."""
        if self.args.verbosity < 2:
            return
        if forked:
            info("workers: forked from this process, with the tests loaded")
        else:
            info(f"workers: new interpreters, not forked: {self._refusal}")

    def start(self, count: int) -> None:
        """Have workers 1..*count* running (new interpreters)."""
        for number in range(len(self.workers) + 1, count + 1):
            self.workers.append(self._spawn(number))

    def _spawn(self, number: int) -> Worker:
        files = worker_files(self._tmp, number)
        extra = ["--worker", str(number), "--ids-file", IDS_ON_STDIN, "--results-file", str(files.results)]
        env = child_env(**{
            WORKER_ENV: str(number), JOURNAL_ENV: str(files.journal), _provision.CREATED_ENV: str(files.created),
        })
        command = child_command(self.args, self.args.labels, ("select", "show"), extra)
        process = start_runner(command, self.cwd, env, output=files.output, stdin=PIPE)
        self._stack.enter_context(forwarding_to(process))
        return Worker(number, process, files)

    def _fork(self, number: int, share: list[unittest.TestCase]) -> Worker:
        assert self.run_share is not None
        run_share, files = self.run_share, worker_files(self._tmp, number)

        def in_child() -> None:
            forget_children()
            leave_supervision()
            # The environment a worker started anew gets (its tests' own children see it).
            environment = child_env(**{WORKER_ENV: str(number)})
            os.environ.clear()
            os.environ.update(environment)
            self._tests.clear()  # the parent's, for new workers; this one runs its share
            keep_journal_in(files.journal)
            _provision.note_created_in(files.created)

        process = fork_worker(files.output, lambda: run_share(number, share, files.results), in_child)
        return Worker(number, process, files, [test.id() for test in share])

    def _start_share(self, number: int, ids: list[str], forked: bool) -> Worker:
        """A new worker *number* running the tests *ids*."""
        if forked:
            worker = self._fork(number, [self._tests[test_id] for test_id in ids])
            self._stack.enter_context(forwarding_to(worker.process))
        else:
            worker = self._spawn(number)
            _give_ids(worker, ids)
        self.workers.append(worker)
        return worker

    def run(
        self, tests: list[unittest.TestCase], count: int, durations: Mapping[str, float],
    ) -> tuple[Counts, int]:
        """Run *tests* in at most *count* workers; return ``(combined counts,
        workers used)``. *durations* (recorded seconds per test id) balance
        the shares. The list is emptied: from here the shares hold the tests,
        so a forked worker, whose copy of this process's lists would keep
        every test it finishes alive, lets go of each as its suite does."""
        shares = [share for share in partition_tests(tests, count, durations) if share]
        forked = self.forks()
        self.say_how_started(forked)
        if forked:
            self._tests = {test.id(): test for test in tests}
        tests.clear()
        if forked:
            # All forked before any is passed signals: a later one would
            # inherit the list of the ones before it.
            busy = [self._fork(number, share) for number, share in enumerate(shares, 1)]
            self.workers += busy
            for worker in busy:
                self._stack.enter_context(forwarding_to(worker.process))
        else:
            self.start(len(shares))
            busy = self.workers[:len(shares)]
            for worker, share in zip(busy, shares):
                _give_ids(worker, [test.id() for test in share])
            for idle in self.workers[len(shares):]:
                _close_stdin(idle)
        total, finished, notes, replacements = Counts(), [], [], 0
        pending = list(busy)
        while pending:
            ended = [worker for worker in pending if worker.process.poll() is not None]
            if not ended:
                for worker in pending:
                    worker.overdue.check_now_and_then(worker.process.pid)
                time.sleep(0.02)
                continue
            for worker in ended:
                pending.remove(worker)
                finished.append(worker)
                counts, left, note = collect_worker(worker)
                if counts.refused:
                    # Bad input, as when a serial run is refused: one message,
                    # exit 2; leaving the pool stops the other workers, which
                    # drop what they created.
                    raise UsageError(counts.refusal or f"worker {worker.number} was refused its database")
                total += counts
                notes += [note] if note else []
                if left and replacements < MAX_REPLACEMENTS:
                    replacements += 1
                    new = self._start_share(len(self.workers) + 1, left, forked)
                    pending.append(new)
                    notes.append(f"worker {worker.number}: its {len(left)} remaining test(s) "
                                 f"went to a new worker, {new.number}")
                elif left:
                    message = (f"NotRun: worker {worker.number} died before running it "
                               f"(and {MAX_REPLACEMENTS} new workers were started already)")
                    total += Counts.from_records(lost_record(test_id, "not_run", message) for test_id in left)
                    notes.append(f"worker {worker.number}: {len(left)} test(s) of its share were not run")
        for worker in sorted(finished, key=lambda worker: worker.number):
            _print_worker(worker)
        for note in notes:
            info(note)
        coverage_support.combine_worker_data([worker.process.pid for worker in finished])
        return total, len(finished)


def _give_ids(worker: Worker, ids: list[str]) -> None:
    worker.ids = ids
    try:
        _close_stdin(worker, json.dumps(ids).encode())
    except BrokenPipeError:  # it ended early: collecting it reports how
        pass


def _close_stdin(worker: Worker, data: bytes = b"") -> None:
    stdin = worker.process.stdin
    if stdin is None or stdin.closed:
        return
    try:
        stdin.write(data)
    finally:
        try:
            stdin.close()
        except BrokenPipeError:
            pass


def collect_worker(worker: Worker) -> tuple[Counts, list[str], str]:
    """Return the counts of the ended *worker*, the ids of its share it
    did not start and what happened to it ("" when it reported). A dead
    worker's counts come from its journal, the test it died in being an
    error; its databases are dropped."""
    status = worker.process.wait()  # it has ended: this reads its status
    counts = Counts.load(worker.files.results)
    if counts is not None:
        return counts, [], ""
    records, current = read_journal(worker.files.journal)
    overdue = worker.overdue.explain()
    how = KILLED_OVERDUE if overdue else describe_exit(status)
    _provision.drop_created_databases(worker.files.created)
    if current is not None:
        message = overdue or f"WorkerDied: worker {worker.number} {how} while running this test"
        records.append(lost_record(current, "error", message))
    counts = Counts.from_records(records)
    ran = {record["id"] for record in records}
    left = [test_id for test_id in worker.ids or () if test_id not in ran]
    if current is None and not records:
        # It died before its first test (it could not load them, or its
        # database was refused): its output says why; a new one would too.
        counts.crashed += 1
        lost = (lost_record(test_id, "not_run", f"NotRun: worker {worker.number} {how} before it")
                for test_id in left)
        return counts + Counts.from_records(lost), [], f"worker {worker.number} {how} without running a test"
    if current is None:  # it died in a fixture or at exit: every test it ran may have passed
        counts.crashed += 1
    return counts, left, f"worker {worker.number} {how} while running {current or 'no test'}"


def _print_worker(worker: Worker) -> None:
    info(f"===== worker {worker.number} ({len(worker.ids or ())} tests) =====")
    sys.stderr.write(worker.files.output.read_text(encoding="utf-8", errors="replace"))


def read_worker_ids(path: str | os.PathLike[str]) -> list[str] | None:
    """Return the test ids a worker was given, in order, from the file at
    *path* or, for ``-``, from stdin; None when stdin closed empty (the
    worker is dismissed)."""
    if str(path) == IDS_ON_STDIN:
        text = sys.stdin.read()
        if not text.strip():
            return None
    else:
        text = Path(path).read_text(encoding="utf-8")
    ids: list[str] = json.loads(text)
    return ids


def print_parallel_summary(
    total: Counts, worker_count: int, elapsed: float, durations: int | None, verbosity: int
) -> None:
    """Print the combined durations (when *durations* is not None), test count and status."""
    lines = [unittest.TextTestResult.separator1]
    if durations is not None:
        lines += format_durations(total.durations, durations, verbosity)
        lines.append(unittest.TextTestResult.separator2)
    lines += [total.ran_line(elapsed, worker_count), "", total.status_line()]
    info("\n".join(lines))
