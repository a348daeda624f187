"""Test runner for Proper apps and for this repository's test suites.

``python runtests.py [LABEL ...] [options]`` and
``python -m proper_unittest [LABEL ...] [options]`` both call :func:`main`;
``--help`` explains labels and options.  How labels are resolved is
described in :mod:`proper_unittest._runner_labels`.

``APP_ENV`` is set to "test" on import, before any app or project code is
imported: the modules imported here (the standard library, ``proper`` and
this package) read it only when an app is created.
"""

import argparse
import os
import random
import sys
import tempfile
import time
import traceback
import unittest
from pathlib import Path

from ._runner_app import AppCheckError, check_configured_app
from ._runner_labels import (
    EXAMPLES_DIR,
    REPO_ROOT,
    LabelError,
    default_suites,
    resolve_label,
    unknown_label_message,
    why_unresolvable,
)
from ._runner_order import iter_tests, reverse_tests, select_by_id, shuffle_tests
from ._runner_parallel import print_parallel_summary, read_worker_ids, run_in_workers
from ._runner_procs import WORKER_ENV, child_env, run_streamed, runner_command
from ._runner_results import Counts

# An app reads APP_ENV when it is created: set it before any project code is
# imported (nothing imported above creates an app).
os.environ["APP_ENV"] = "test"

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

DESCRIPTION = """\
Run the tests of Proper apps, or of this repository, with unittest.

Each LABEL is resolved by the first rule that matches:
  (no label)             every suite: this repository's tests/ and each
                         examples/<app>/tests, one process per suite
  APP                    an example app: examples/APP/tests, run with
                         examples/APP as the current directory and first
                         on sys.path
  DIR                    a project directory holding tests/ (same as above),
                         or any other directory, taken as a tests directory
  FILE.py                one test module
  PROJECT:NAME           a dotted test NAME inside an example app or a
                         project directory
  NAME                   a dotted test name (module, class or method) from
                         the current directory's project

Labels from different projects run one process per project.  If the project
configures an app (setup.cfg [proper_unittest] app = module:attr, or
pyproject.toml [tool.proper_unittest] app), it must import and be a proper.App.
"""

EPILOG = """\
Output is unittest's, then a last line "N passed, N failed" (plus
", N skipped" when any) on stdout.  Exit status: 0 when every test passed,
1 when some failed, 2 for a usage error (unknown label, app that cannot be
imported or is not a proper.App, no tests found).

examples:
  python runtests.py                                # every suite
  python runtests.py myapp -v                       # one example app
  python runtests.py myapp -k upload -k 'Photo*Tests.test_list*'
  python runtests.py tests/test_client.py --failfast
  python runtests.py tests.test_client.ClientTests.test_get
  python runtests.py myapp:tests.test_photos.PhotoTests.test_list
  python runtests.py myapp --shuffle                # prints the seed it used
  python runtests.py myapp --shuffle=1234           # the same order again
  python runtests.py myapp --parallel 4 --durations 10
"""


class UsageError(Exception):
    """The command line asks for something that cannot be run (exit status 2)."""


USAGE_ERRORS = (UsageError, LabelError, AppCheckError)


def main(argv=None, prog=None):
    """Run the tests named on the command line; return the exit status.

    *argv* defaults to ``sys.argv[1:]``; *prog* is the command name shown in
    help and error messages.
    """
    os.environ["APP_ENV"] = "test"
    parser = build_parser(prog)
    args = parser.parse_intermixed_args(normalize_argv(sys.argv[1:] if argv is None else argv))
    try:
        return dispatch(args, Path.cwd())
    except USAGE_ERRORS as exc:
        report_usage_error(parser.prog, exc, args.verbosity)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


def build_parser(prog=None):
    """Return the argument parser of the runner."""
    parser = argparse.ArgumentParser(
        prog=prog, description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("labels", nargs="*", metavar="LABEL", help="what to run (see above)")
    parser.add_argument(
        "-k", dest="patterns", action="append", metavar="PATTERN",
        help="only run tests whose full id (module.Class.test_method) contains PATTERN, "
        "or matches it when it has a '*' (fnmatch); repeat to run tests matching any",
    )
    parser.add_argument(
        "-f", "--failfast", action="store_true",
        help="stop at the first failure or error (and run no further suite)",
    )
    chatter = parser.add_mutually_exclusive_group()
    chatter.add_argument(
        "-v", "--verbose", dest="verbosity", action="store_const", const=2, default=1,
        help="print each test's name and outcome",
    )
    chatter.add_argument(
        "-q", "--quiet", dest="verbosity", action="store_const", const=0, help="print less"
    )
    parser.add_argument(
        "-b", "--buffer", action="store_true", help="hide the output of passing tests"
    )
    parser.add_argument(
        "--durations", type=_non_negative_int, metavar="N",
        help="after the run, print the N slowest tests and their times (0: all)",
    )
    order = parser.add_mutually_exclusive_group()
    order.add_argument(
        "--shuffle", nargs="?", const="", type=_parse_seed, metavar="SEED",
        help="run modules, the test classes in each module and the tests in each class "
        "in random order (never splitting a class); prints the seed used: "
        "--shuffle=SEED repeats that order",
    )
    order.add_argument(
        "--reverse", action="store_true",
        help="run modules, classes and tests in reverse order (never splitting a class)",
    )
    parser.add_argument(
        "--parallel", type=_parse_parallel, default=1, metavar="N",
        help="split the test classes among N worker processes ('auto': one per CPU); "
        f"each worker has {WORKER_ENV}=1..N in its environment",
    )
    # Internal: how the runner drives its own child processes.
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ids-file", help=argparse.SUPPRESS)
    parser.add_argument("--results-file", help=argparse.SUPPRESS)
    parser.add_argument("--suite-name", help=argparse.SUPPRESS)
    return parser


def normalize_argv(argv):
    """Make a bare ``--shuffle`` stand alone, so a label after it is not taken as its seed."""
    argv = list(argv)
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        following = argv[index + 1] if index + 1 < len(argv) else ""
        if arg == "--shuffle" and not following.isdigit():
            argv[index] = "--shuffle="
    return argv


def dispatch(args, cwd):
    """Run what *args* asks for, from directory *cwd*; return the exit status."""
    if args.shuffle is not None:
        # Failure reports print a reproducer line with this seed.
        os.environ["PROPER_UNITTEST_SHUFFLE_SEED"] = str(args.shuffle)
    if args.shuffle is not None and args.results_file is None:
        info(f"Shuffling with seed {args.shuffle} (repeat this order with --shuffle={args.shuffle})")
    if not args.labels:
        return run_suites(default_suites(), args, cwd)
    targets = [resolve_label(label, cwd) for label in args.labels]
    projects = group_by_project(targets)
    if len(projects) > 1:
        suites = [(str(project), [t.label for t in group]) for project, group in projects.items()]
        return run_suites(suites, args, cwd)
    return run_project(targets, args, cwd)


def group_by_project(targets):
    """Return ``{project_dir: [target, ...]}``, in label order."""
    projects = {}
    for target in targets:
        projects.setdefault(target.project_dir, []).append(target)
    return projects


# -- one project, in this process -----------------------------------------


def run_project(targets, args, cwd):
    """Run *targets*, which share one project, here or in parallel workers."""
    enter_project(targets)
    check_configured_app(targets[0].project_dir)
    suite = load_suite(targets, args.patterns)
    if args.worker is not None:
        suite = worker_suite(suite, args)
    elif args.shuffle is not None or args.reverse:
        suite = reordered(suite, args)
    if suite.countTestCases() == 0:
        raise UsageError(no_tests_message(targets, args.patterns))
    if args.parallel > 1 and args.worker is None:
        return run_parallel(suite, args, cwd)
    return run_here(suite, args)


def enter_project(targets):
    """Put the project first on sys.path and make it the current directory."""
    project = targets[0].project_dir
    for root in dict.fromkeys(t.import_root for t in targets):
        if root != project:
            sys.path.insert(0, str(root))
    sys.path.insert(0, str(project))
    os.chdir(project)


def load_suite(targets, patterns):
    """Load the tests of every target into one suite, keeping only those matching -k *patterns*."""
    loader = unittest.TestLoader()
    if patterns:
        # The same rule as unittest's own -k option.
        loader.testNamePatterns = [p if "*" in p else f"*{p}*" for p in patterns]
    suite = unittest.TestSuite()
    for target in targets:
        suite.addTest(load_target(loader, target))
    return suite


def load_target(loader, target):
    """Discover or load the tests of one target."""
    if target.start_dir is not None:
        try:
            return loader.discover(str(target.start_dir), top_level_dir=str(target.import_root))
        except ImportError as exc:
            raise UsageError(f"cannot discover tests in {target.start_dir}: {exc}") from exc
    problem = why_unresolvable(target.name)
    if problem:
        raise LabelError(unknown_label_message(target.label, problem))
    return loader.loadTestsFromName(target.name)


def reordered(suite, args):
    """Return *suite* flattened and shuffled (``--shuffle``) or reversed (``--reverse``)."""
    tests = list(iter_tests(suite))
    if args.shuffle is not None:
        tests = shuffle_tests(tests, args.shuffle)
    else:
        tests = reverse_tests(tests)
    return unittest.TestSuite(tests)


def no_tests_message(targets, patterns):
    """Return the one-line message for a run that found no tests."""
    where = ", ".join(str(t.start_dir or t.label) for t in targets)
    matching = " matching " + " or ".join(f"-k {p!r}" for p in patterns) if patterns else ""
    return f"no tests found in {where}{matching}"


def run_here(suite, args):
    """Run *suite* in this process with unittest's text runner; return the exit status."""
    runner = unittest.TextTestRunner(
        verbosity=args.verbosity,
        failfast=args.failfast,
        buffer=args.buffer,
        # Workers report durations to the parent, which prints them all together.
        durations=args.durations if args.worker is None else None,
        warnings=None if sys.warnoptions else "default",
    )
    result = runner.run(suite)
    return finish(Counts.from_result(result), args)


def finish(counts, args, ok=None):
    """Report *counts* (summary line, results file); return the exit status.

    *ok* overrides whether the run succeeded (default: nothing failed).
    """
    if args.results_file:
        counts.dump(args.results_file)
    sys.stderr.flush()
    print(summary_prefix(args) + counts.summary_line(), flush=True)
    ok = counts.successful if ok is None else ok
    return EXIT_OK if ok else EXIT_FAILED


def summary_prefix(args):
    """Return what precedes the summary line: nothing, except in the runner's child processes."""
    if args.worker is not None:
        return f"worker {args.worker}: "
    if args.suite_name:
        return f"{args.suite_name}: "
    return ""


# -- parallel workers ---------------------------------------------------------


def worker_suite(suite, args):
    """Return the suite of the tests the parent gave this worker, in the parent's order."""
    tests, missing = select_by_id(list(iter_tests(suite)), read_worker_ids(args.ids_file))
    if missing:
        raise UsageError(
            f"worker {args.worker}: {len(missing)} test(s) given by the parent were not found, "
            f"first {missing[0]!r}"
        )
    return unittest.TestSuite(tests)


def run_parallel(suite, args, cwd):
    """Run *suite* split among ``--parallel`` worker processes; return the exit status."""
    started = time.perf_counter()
    total, worker_count = run_in_workers(
        list(iter_tests(suite)), args.parallel, args.labels, selection_options(args), cwd
    )
    elapsed = time.perf_counter() - started
    print_parallel_summary(total, worker_count, elapsed, args.durations, args.verbosity)
    return finish(total, args)


# -- several suites, one process each ----------------------------------------


def run_suites(suites, args, cwd):
    """Run each ``(name, labels)`` suite in its own process; return the exit status."""
    if not suites:
        raise UsageError(
            f"no test suites found (looked for {REPO_ROOT / 'tests'} and {EXAMPLES_DIR}/*/tests)"
        )
    total, failed = Counts(), []
    with tempfile.TemporaryDirectory(prefix="proper_unittest-") as tmp:
        for index, (name, labels) in enumerate(suites, start=1):
            info(f"===== {name} ({index}/{len(suites)}) =====")
            counts, status = run_suite_process(name, labels, args, cwd, Path(tmp, f"suite{index}.json"))
            total += counts
            if status != EXIT_OK:
                failed.append(f"{name} (exit status {status})")
                if args.failfast:
                    break
    if failed:
        info("Failed suites: " + ", ".join(failed))
    return finish(total, args, ok=not failed and total.successful)


def run_suite_process(name, labels, args, cwd, results_path):
    """Run one suite in a child process, output streamed; return ``(counts, exit status)``."""
    options = forwarded_options(args) + ["--suite-name", name, "--results-file", str(results_path)]
    status = run_streamed(runner_command(labels, options), cwd, child_env())
    counts = Counts.load(results_path)
    if counts is None:
        counts = Counts.broken()
    return counts, status


# -- command-line plumbing ---------------------------------------------------


def selection_options(args):
    """Return the options that select tests and shape output, as command-line arguments."""
    options = []
    for pattern in args.patterns or ():
        options += ["-k", pattern]
    options += ["--failfast"] if args.failfast else []
    options += {0: ["--quiet"], 1: [], 2: ["--verbose"]}[args.verbosity]
    options += ["--buffer"] if args.buffer else []
    return options


def forwarded_options(args):
    """Return every user-facing option of *args* as command-line arguments."""
    options = selection_options(args)
    if args.durations is not None:
        options += ["--durations", str(args.durations)]
    if args.shuffle is not None:
        options.append(f"--shuffle={args.shuffle}")
    options += ["--reverse"] if args.reverse else []
    options += ["--parallel", str(args.parallel)]
    return options


def report_usage_error(prog, exc, verbosity):
    """Print a usage error on one line (with the underlying traceback when verbose)."""
    if verbosity >= 2 and exc.__cause__ is not None:
        traceback.print_exception(exc.__cause__)
    print(f"{prog}: error: {exc}", file=sys.stderr, flush=True)


def info(message):
    """Print a progress message on stderr, where unittest writes too."""
    print(message, file=sys.stderr, flush=True)


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _parse_seed(text):
    """Return the shuffle seed: *text* as a number, or a random one when empty."""
    if text == "":
        return random.randrange(10**6)
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the seed must be a whole number, got {text!r}") from None


def _parse_parallel(text):
    """Return the worker count: a number >= 1, or 'auto' for one per CPU."""
    if text == "auto":
        return max(os.process_cpu_count() or 1, 1)
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1 or 'auto', got {text!r}")
    return value
