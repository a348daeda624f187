"""Run a list of tests split among parallel worker processes (``--parallel N``).

Each worker is the runner itself, started with the same labels plus
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
from collections.abc import Sequence
from contextlib import ExitStack
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


def run_in_workers(
    tests: Sequence[unittest.TestCase], count: int, labels: Sequence[str], options: Sequence[str], cwd: Path
) -> tuple[Counts, int]:
    """Run *tests* among at most *count* workers; return ``(combined counts, workers used)``.

    *labels* and *options* are passed to every worker, started in *cwd*.
    """
    parts = partition_tests(tests, count)
    with tempfile.TemporaryDirectory(prefix="proper_unittest-") as tmp, ExitStack() as forwarding:
        workers: list[Worker] = []
        try:
            for number, part in enumerate(parts, start=1):
                workers.append(start_worker(number, part, labels, options, cwd, Path(tmp)))
                forwarding.enter_context(forwarding_to(workers[-1].process))
            total = sum((collect_worker(worker) for worker in workers), Counts())
        finally:
            # On SIGTERM/SIGINT the workers got the signal too: wait for their clean-up.
            stop_processes([worker.process for worker in workers])
    coverage_support.combine_worker_data([worker.process.pid for worker in workers])
    return total, len(workers)


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
