"""Run a list of tests split among parallel workers (``--parallel N``).

Worker 1 is this process. Workers 2..N are the runner itself, started with
the same labels plus ``--worker K --ids-file - --results-file FILE`` and
with ``PROPER_UNITTEST_WORKER=K`` in their environment. When the options
or the recorded durations say the run is parallel, they start before this
process has loaded the tests and load them meanwhile. Each then reads the
ids of its share on stdin, runs those in that order, and writes its
counts; one whose stdin closes with no ids is dismissed and exits having
touched nothing. This process runs its own share with
``PROPER_UNITTEST_WORKER=1`` set while it does (a share bigger by a
worker's start-up time when the others start only after the tests are
loaded). Worker output is collected and printed worker by worker, so it
does not interleave.
"""

import json
import os
import sys
import tempfile
import unittest
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE, STDOUT, Popen
from types import TracebackType

from . import coverage_support
from .order import partition_tests
from .procs import WORKER_ENV, child_env, runner_command, stop_processes
from .results import Counts, format_durations
from .signals import forwarding_to

#: About how long a worker process takes to start (interpreter, app
#: import, test loading) on a 2-core machine: when workers start only
#: after this process has loaded the tests, its share is that much bigger
#: (if recorded durations say how long tests take).
WORKER_START_SECONDS = 0.4
#: ``--ids-file`` value telling a worker to read its ids on stdin.
IDS_ON_STDIN = "-"


@dataclass
class Worker:
    """A worker process, the files it reports through, and its share's size."""

    number: int
    process: Popen[bytes]
    output_path: Path
    results_path: Path
    size: int | None = None  # None until it is given its share


class WorkerPool:
    """Worker processes 2..N of one run (see the module docstring).

    Use as a context manager: on leaving it, every worker not given a share
    is dismissed, every one still running is stopped, and their files go.
    """

    def __init__(self, labels: Sequence[str], options: Sequence[str], cwd: Path) -> None:
        self.labels, self.options, self.cwd = labels, options, cwd
        self.workers: list[Worker] = []
        self._stack = ExitStack()
        self._tmp = Path()

    def __enter__(self) -> "WorkerPool":
        self._tmp = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="proper_unittest-")))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        try:
            for worker in self.workers:
                if worker.size is None:
                    _close_stdin(worker)
            # On SIGTERM/SIGINT the workers got the signal too: wait for their clean-up.
            stop_processes([worker.process for worker in self.workers])
        finally:
            self._stack.close()

    def start(self, count: int) -> None:
        """Have workers 2..*count* running (this process is worker 1)."""
        for number in range(len(self.workers) + 2, count + 1):
            results_path = self._tmp / f"worker{number}-results.json"
            output_path = self._tmp / f"worker{number}-output.txt"
            options = [*self.options, "--worker", str(number), "--ids-file", IDS_ON_STDIN,
                       "--results-file", str(results_path)]
            env = child_env(**{WORKER_ENV: str(number)})
            with open(output_path, "wb") as output:
                process = Popen(runner_command(self.labels, options), cwd=self.cwd, env=env,
                                stdin=PIPE, stdout=output, stderr=STDOUT)
            self._stack.enter_context(forwarding_to(process))
            self.workers.append(Worker(number, process, output_path, results_path))

    def run(
        self, tests: Sequence[unittest.TestCase], count: int,
        run_share: Callable[[list[unittest.TestCase]], Counts], durations: Mapping[str, float],
    ) -> tuple[Counts, int]:
        """Run *tests* in this process and at most *count* - 1 workers;
        return ``(combined counts, workers used)``. This process's share is
        run by *run_share*; *durations* (recorded seconds per test id)
        balance the shares."""
        # Workers started now are behind by their start-up; those started
        # early loaded the tests while this process did.
        late = len(self.workers) < count - 1
        head_start = WORKER_START_SECONDS if late else 0.0
        own, *others = partition_tests(tests, count, durations, head_start=head_start)
        self.start(1 + len(others))
        busy = self.workers[:len(others)]
        for worker, share in zip(busy, others):
            _give_share(worker, share)
        for idle in self.workers[len(others):]:
            _close_stdin(idle)
        _info(f"===== worker 1 (this process, {len(own)} tests) =====")
        with worker_number(1):
            total = run_share(own)
        _info(f"worker 1: {total.summary_line()}")
        total = sum((collect_worker(worker) for worker in busy), total)
        coverage_support.combine_worker_data([worker.process.pid for worker in busy])
        return total, 1 + len(busy)


def _give_share(worker: Worker, tests: Sequence[unittest.TestCase]) -> None:
    worker.size = len(tests)
    try:
        _close_stdin(worker, json.dumps([test.id() for test in tests]).encode())
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


@contextmanager
def worker_number(number: int) -> Iterator[None]:
    """Within this block, this process is worker *number*: its test
    databases get that worker's names, as a worker process's do."""
    saved = os.environ.get(WORKER_ENV)
    os.environ[WORKER_ENV] = str(number)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(WORKER_ENV, None)
        else:
            os.environ[WORKER_ENV] = saved


def collect_worker(worker: Worker) -> Counts:
    """Wait for *worker*, print its output and return its counts."""
    status = worker.process.wait()
    _info(f"===== worker {worker.number} ({worker.size} tests) =====")
    sys.stderr.write(worker.output_path.read_text(encoding="utf-8", errors="replace"))
    counts = Counts.load(worker.results_path)
    if counts is None:
        _info(f"worker {worker.number} exited with status {status} without reporting results")
        counts = Counts.broken()
    return counts


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
    plural = "" if total.tests_run == 1 else "s"
    lines += [
        f"Ran {total.tests_run} test{plural} in {elapsed:.3f}s with {worker_count} worker processes",
        "",
        total.status_line(),
    ]
    _info("\n".join(lines))


def _info(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
