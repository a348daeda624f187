"""Run a list of tests split among parallel workers (``--parallel N``).

Worker 1 is this process, which has loaded the tests already: it starts
the others, then runs its own share (a little bigger, by the time the
others take to start) with ``PROPER_UNITTEST_WORKER=1`` set while it does.
Every other worker is the runner itself, started with the same labels plus
``--worker K --ids-file FILE --results-file FILE`` and with
``PROPER_UNITTEST_WORKER=K`` in its environment: it loads the same tests,
runs those whose ids are in FILE, in that order, and writes its counts.
Worker output is collected and printed worker by worker, so it does not
interleave.
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
from subprocess import Popen

from . import coverage_support
from .order import partition_tests
from .procs import WORKER_ENV, child_env, runner_command, start_collected, stop_processes
from .results import Counts, format_durations
from .signals import forwarding_to


@dataclass
class Worker:
    """A worker process and the files it reports through."""

    number: int
    size: int
    process: Popen[bytes]
    output_path: Path
    results_path: Path


#: About how long a worker process takes to start (interpreter, app
#: import, test loading) on a 2-core machine: this process's share is
#: that much bigger, when recorded durations say how long tests take.
WORKER_START_SECONDS = 0.4


def run_in_workers(
    tests: Sequence[unittest.TestCase], count: int, labels: Sequence[str], options: Sequence[str], cwd: Path,
    run_share: Callable[[list[unittest.TestCase]], Counts], durations: Mapping[str, float],
) -> tuple[Counts, int]:
    """Run *tests* in this process and at most *count* - 1 worker processes;
    return ``(combined counts, workers used)``.

    This process's share is run by *run_share*; *labels* and *options* are
    passed to every worker process, started in *cwd*. *durations* (recorded
    seconds per test id) balance the shares.
    """
    own, *others = partition_tests(tests, count, durations, head_start=WORKER_START_SECONDS)
    with tempfile.TemporaryDirectory(prefix="proper_unittest-") as tmp, ExitStack() as forwarding:
        workers: list[Worker] = []
        try:
            for number, part in enumerate(others, start=2):
                workers.append(start_worker(number, part, labels, options, cwd, Path(tmp)))
                forwarding.enter_context(forwarding_to(workers[-1].process))
            _info(f"===== worker 1 (this process, {len(own)} tests) =====")
            with worker_number(1):
                total = run_share(own)
            _info(f"worker 1: {total.summary_line()}")
            total = sum((collect_worker(worker) for worker in workers), total)
        finally:
            # On SIGTERM/SIGINT the workers got the signal too: wait for their clean-up.
            stop_processes([worker.process for worker in workers])
    coverage_support.combine_worker_data([worker.process.pid for worker in workers])
    return total, 1 + len(workers)


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


def start_worker(
    number: int, tests: Sequence[unittest.TestCase], labels: Sequence[str], options: Sequence[str],
    cwd: Path, tmp: Path,
) -> Worker:
    """Start worker *number* on *tests*; return its :class:`Worker`."""
    ids_path = tmp / f"worker{number}-ids.json"
    ids_path.write_text(json.dumps([test.id() for test in tests]), encoding="utf-8")
    results_path = tmp / f"worker{number}-results.json"
    output_path = tmp / f"worker{number}-output.txt"
    worker_options = [
        *options, "--worker", str(number), "--ids-file", str(ids_path), "--results-file", str(results_path),
    ]
    env = child_env(**{WORKER_ENV: str(number)})
    process = start_collected(runner_command(labels, worker_options), cwd, env, output_path)
    return Worker(number, len(tests), process, output_path, results_path)


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


def read_worker_ids(path: str | os.PathLike[str]) -> list[str]:
    """Return the test ids a worker was given, in order."""
    with open(path, encoding="utf-8") as file:
        ids: list[str] = json.load(file)
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
