"""Run the tests of one project, in this process or in parallel workers.

In order: the project goes first on ``sys.path`` (and becomes the current
directory); its tests package is imported (``tests/__init__.py``, as
``python -m unittest discover`` does); the app its config names is loaded
and passes the safety checks; the tests are loaded, and the outside
services their classes would use are checked; then selected
(``--failed``, ``--shard``), reordered and run.  Any problem before the
run is a :class:`UsageError` and nothing runs.
"""

import argparse
import copy
import os
import sys
import time
import unittest
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from .app_check import check_configured_app, check_test_classes
from .bisection import bisect_order
from .history import load_durations, load_failed, record_run
from .junit import write_junit_xml
from .labels import Target
from .loading import describe_skipped, import_tests_packages, load_suite, may_still_exist, skipped_test_folders
from .order import class_key, iter_tests, reverse_tests, select_by_id, shuffle_tests
from .parallel import WorkerPool, print_parallel_summary, read_worker_ids
from .problems import UsageError, info, print_usage_error
from .records import RecordingResult
from .rerun import report_order_dependent
from .results import Counts, CountingRunner
from .shard import shard_tests
from .signals import Interrupted
from .supervisor import leave_report_to_supervisor

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: Stopped by SIGINT (SIGTERM: 143, from :class:`Interrupted`).
EXIT_INTERRUPTED = 130
# ``--parallel auto``: a worker started anew costs about half a second to
# start (interpreter, app import, test loading, databases), so a run stays
# in this process unless the workers have clearly more than that to share.
# A forked worker costs less (under 0.1 s of CPU, README), but forking can
# be refused (forking.py), so the thresholds are set for the dearer one.
# On 2 cores (bench/run.py --scaling, SQLite, tests of ~3.5 ms) two
# workers break even at about 0.6 s of test work (150-200 such tests).
#: With recorded durations (``.proper_unittest/durations.json``): the least
#: estimated test time, in seconds, worth starting workers for; and the
#: least each worker should get.
AUTO_PARALLEL_MIN_SECONDS = 1.5
AUTO_PARALLEL_SECONDS_PER_WORKER = 0.75
#: Without recorded durations for most of the run: the fewest tests worth
#: starting workers for (1000 fast tests of 1 ms still gain a little).
AUTO_PARALLEL_MIN_TESTS = 1000


def run_project(targets: Sequence[Target], args: argparse.Namespace, cwd: Path) -> int:
    """Run *targets*, which share one project, here or in parallel workers."""
    started = time.perf_counter()
    project = targets[0].project_dir
    # Recorded seconds per test (read once): they size and balance the workers.
    durations = {} if is_child(args) else load_durations(project)
    with WorkerPool(args, cwd, worker_share_runner(args)) as pool:
        # Workers known to be needed that cannot be forked once the tests
        # are loaded start now, and load the tests while we do.
        planned = planned_workers(args, durations)
        if planned > 1 and not pool.forks():
            pool.start(planned)
        return _run_project(targets, args, cwd, project, started, pool, durations)


def _run_project(
    targets: Sequence[Target], args: argparse.Namespace, cwd: Path, project: Path, started: float,
    pool: WorkerPool, durations: Mapping[str, float],
) -> int:
    enter_project(targets)
    import_tests_packages(targets)
    check_configured_app(project)
    loaded = list(iter_tests(load_suite(targets, args.patterns, args.command)))
    check_test_classes(loaded)
    skipped_folders = [item for t in targets if t.start_dir for item in skipped_test_folders(t.start_dir)]
    if not loaded:
        raise UsageError(no_tests_message(targets, args.patterns, skipped_folders, project))
    if args.worker is not None or args.ids_file:
        given = worker_tests(loaded, args)
        if given is None:
            return EXIT_OK  # dismissed by the parent: nothing to run, nothing to report
        tests = given
    else:
        if skipped_folders and not args.list_only:
            info("warning: " + describe_skipped(skipped_folders, project))
        tests = select_tests(loaded, args, project, durations)
    del loaded  # from here on only *tests* holds them (see suite_taking)
    if args.list_only:
        print("\n".join(test.id() for test in tests), flush=True)
        return EXIT_OK
    if args.bisect:
        return bisect_order(args.bisect, tests, args, cwd, project)
    if not tests:
        info(f"shard {args.shard[0]}/{args.shard[1]} has no tests: nothing to run")
        return finish(Counts(), args, project, started)
    workers = worker_count(args.parallel, tests, durations) if args.worker is None else 1
    if workers > 1:
        counts = run_parallel(tests, workers, args, pool, durations)
    else:
        counts = run_here(suite_taking(tests), args)
    if not is_child(args) and not counts.refused:  # a refused run is not run again
        report_order_dependent(counts, args, cwd)
    return finish(counts, args, project, started)


def suite_taking(tests: list[unittest.TestCase]) -> unittest.TestSuite:
    """A suite of *tests* that becomes their only holder: the list is
    emptied, and unittest's suite lets go of each test once it has run, so
    what a finished test kept (its client, its fixtures, its attributes) is
    freed then, not at the end of the run."""
    suite = unittest.TestSuite(tests)
    tests.clear()
    return suite


def enter_project(targets: Sequence[Target]) -> None:
    """Put the project first on sys.path and make it the current directory."""
    project = targets[0].project_dir
    for root in dict.fromkeys(t.import_root for t in targets):
        if root != project:
            sys.path.insert(0, str(root))
    sys.path.insert(0, str(project))
    os.chdir(project)


def select_tests(
    tests: list[unittest.TestCase], args: argparse.Namespace, project: Path, durations: Mapping[str, float],
) -> list[unittest.TestCase]:
    """Apply ``--failed``, ``--shard`` (balanced by *durations*) and
    ``--shuffle``/``--reverse`` to the loaded *tests*."""
    if args.failed:
        tests = failed_tests(tests, project)
    if args.shard:
        index, count = args.shard
        tests = shard_tests(tests, index, count, durations)
    if args.shuffle is not None:
        tests = shuffle_tests(tests, args.shuffle)
    elif args.reverse:
        tests = reverse_tests(tests)
    return tests


def failed_tests(tests: list[unittest.TestCase], project: Path) -> list[unittest.TestCase]:
    """Return the tests that failed in the last run (a failing fixture's whole class or module)."""
    failed = load_failed(project)
    selected = [
        test for test in tests
        if test.id() in failed or class_key(test) in failed or type(test).__module__ in failed
    ]
    if not selected:
        info("--failed: no test failed in the last run (or none of them is selected): running all")
        return tests
    info(f"--failed: running the {len(selected)} test(s) that failed in the last run")
    return selected


def is_child(args: argparse.Namespace) -> bool:
    """True in a process the runner started to run tests it chose (a worker, a rerun, a bisect step)."""
    return args.worker is not None or bool(args.ids_file)


def worker_tests(tests: list[unittest.TestCase], args: argparse.Namespace) -> list[unittest.TestCase] | None:
    """Return the tests the parent gave this worker (``--ids-file``), in the
    parent's order; None if the parent dismissed it."""
    ids = read_worker_ids(args.ids_file)
    if ids is None:
        return None
    selected, missing = select_by_id(tests, ids)
    if missing:
        who = f"worker {args.worker}" if args.worker is not None else "--ids-file"
        raise UsageError(
            f"{who}: {len(missing)} test(s) given by the parent were not found, "
            f"first {missing[0]!r}"
        )
    return selected


def planned_workers(args: argparse.Namespace, durations: Mapping[str, float]) -> int:
    """How many workers a run will want, as far as it is known before the
    tests are loaded: ``--parallel N``, or for 'auto' what the recorded
    *durations* of the project's tests are worth (0 when unknown)."""
    parallel: int | Literal["auto"] = args.parallel
    if is_child(args) or args.list_only or args.bisect:
        return 0
    if parallel != "auto":
        count = min(parallel, os.process_cpu_count() or 1)
        return count if count > 1 else 0
    recorded = sum(durations.values())
    if recorded < AUTO_PARALLEL_MIN_SECONDS:
        return 0
    return min(os.process_cpu_count() or 1, int(recorded // AUTO_PARALLEL_SECONDS_PER_WORKER))


def worker_count(
    parallel: int | Literal["auto"], tests: Sequence[unittest.TestCase], durations: Mapping[str, float],
) -> int:
    """Return how many workers to start: ``--parallel N``, or for 'auto'
    one per core when the run is big enough (see AUTO_PARALLEL_*), judged
    by the recorded *durations* when they cover most of the tests, else by
    the number of tests; never more than cores, nor than test classes (a
    class runs in one worker), saying so when N is cut down."""
    cores = os.process_cpu_count() or 1
    classes = len({class_key(test) for test in tests})
    if parallel != "auto":
        count = max(1, min(parallel, cores, classes))
        if count < parallel:
            info(f"--parallel {parallel}: running {count} worker process(es), as many as "
                 f"there are {'CPU cores' if cores <= classes else 'test classes'} "
                 f"({cores} cores, {classes} test classes); more would only wait for each other")
        return count
    known = [durations[test.id()] for test in tests if test.id() in durations]
    if len(known) * 2 >= len(tests):
        estimate = sum(known) * len(tests) / len(known)
        if estimate < AUTO_PARALLEL_MIN_SECONDS:
            info(f"--parallel auto: {len(tests)} tests of about {estimate:.2f} s in all (recorded "
                 f"durations), less than {AUTO_PARALLEL_MIN_SECONDS} s: running them in this process")
            return 1
        wanted = int(estimate // AUTO_PARALLEL_SECONDS_PER_WORKER)
    else:
        if len(tests) < AUTO_PARALLEL_MIN_TESTS:
            info(f"--parallel auto: {len(tests)} tests, fewer than {AUTO_PARALLEL_MIN_TESTS} "
                 "(and no recorded durations): running them in this process")
            return 1
        wanted = cores
    return max(1, min(cores, classes, wanted))


def no_tests_message(
    targets: Sequence[Target], patterns: Sequence[str] | None, skipped_folders: list[tuple[Path, Path]],
    project: Path,
) -> str:
    """Return the message for a run that found no tests (and which folders discovery skipped)."""
    where = ", ".join(str(t.start_dir or t.label) for t in targets)
    matching = " matching " + " or ".join(f"-k {p!r}" for p in patterns) if patterns else ""
    hint = f"; {describe_skipped(skipped_folders, project)}" if skipped_folders else ""
    return f"no tests found in {where}{matching}{hint}"


def run_here(suite: unittest.TestSuite, args: argparse.Namespace, report_durations: bool = True) -> Counts:
    """Run *suite* in this process with unittest's text runner; return its counts.
    Without *report_durations*, ``--durations`` is left to the caller."""
    runner = CountingRunner(
        verbosity=args.verbosity,
        failfast=args.failfast,
        buffer=args.buffer,
        resultclass=RecordingResult,
        # Workers report durations to the parent, which prints them all together.
        durations=args.durations if args.worker is None else None,
        warnings=None if sys.warnoptions else "default",
    )
    return Counts.from_result(runner.run(suite))


def run_guarded(args: argparse.Namespace, body: Callable[[], int]) -> int:
    """Return ``body()``, or the exit status of the usage error or signal
    that stopped it, having said why (a worker also writes a usage error
    into its results: its parent reports it, once, and stops the run)."""
    try:
        return body()
    except UsageError as exc:
        print_usage_error(args.prog, exc)
        if args.results_file:
            Counts(refused=1, refusal=str(exc)).dump(args.results_file)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        if not isinstance(exc, Interrupted):  # raised by code, not a signal: the supervisor reports the run
            leave_report_to_supervisor()
            info(f"\nStopped: {type(exc).__name__} raised{f' ({exc})' if str(exc) else ''}, not by a signal.")
            return EXIT_INTERRUPTED
        # The supervisor reports what ran (the summary, the JUnit XML) from
        # the journal: this process stops here, mid-run.
        leave_report_to_supervisor(stopped_by=exc.signum)
        info(f"\nStopped ({exc}).")
        return exc.exit_status


def worker_share_runner(args: argparse.Namespace) -> Callable[[int, list[unittest.TestCase], Path], int]:
    """How a worker forked from this run runs its share: as a worker given
    ``--worker K --results-file FILE`` runs the ids it is given."""
    def run_share(number: int, tests: list[unittest.TestCase], results_path: Path) -> int:
        worker_args = copy.copy(args)
        worker_args.worker, worker_args.results_file, worker_args.junitxml = number, str(results_path), None
        return run_guarded(worker_args, lambda: finish(run_here(suite_taking(tests), worker_args), worker_args))

    return run_share


def run_parallel(
    tests: list[unittest.TestCase], workers: int, args: argparse.Namespace, pool: WorkerPool,
    durations: Mapping[str, float],
) -> Counts:
    """Run *tests* split among *workers* workers (this process and the
    *pool*'s processes); return the combined counts."""
    started = time.perf_counter()
    total, used = pool.run(tests, workers, durations)
    elapsed = time.perf_counter() - started
    print_parallel_summary(total, used, elapsed, args.durations, args.verbosity)
    return total


def finish(
    counts: Counts, args: argparse.Namespace, project: Path | None = None, started: float | None = None,
    ok: bool | None = None,
) -> int:
    """Report *counts* (summary line, results file, history, JUnit XML); return the exit status.

    *ok* overrides whether the run succeeded (default: nothing failed).
    A refusal (an unsafe database, a misconfigured class) is bad input, as
    at start-up: raised as a UsageError, so the message alone is shown and
    nothing is written (a worker writes it for its parent, which does so).
    """
    if counts.refused and not args.results_file:
        raise UsageError(counts.refusal or "the run was refused")
    if args.results_file:
        counts.dump(args.results_file)
    if project is not None and not is_child(args):
        record_run(project, counts.records, still_exists=may_still_exist)
    if args.junitxml:
        elapsed = time.perf_counter() - started if started is not None else 0.0
        write_junit_xml(args.junitxml, counts.records, elapsed)
    sys.stderr.flush()
    print(summary_prefix(args) + counts.summary_line(), flush=True)
    if counts.refused:  # a safety refusal is bad input, as at start-up
        return EXIT_USAGE
    ok = counts.successful if ok is None else ok
    return EXIT_OK if ok else EXIT_FAILED


def summary_prefix(args: argparse.Namespace) -> str:
    """Return what precedes the summary line: nothing, except in the runner's child processes."""
    if args.worker is not None:
        return f"worker {args.worker}: "
    if args.suite_name:
        return f"{args.suite_name}: "
    return ""

