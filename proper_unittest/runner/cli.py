"""The command line: ``python -m proper_unittest``, ``proper-unittest`` and ``runtests.py``.

All three call :func:`main` (runtests.py with a :class:`~.labels.Command` of
its own); ``--help`` explains labels and options.  How
labels are resolved is described in :mod:`proper_unittest.runner.labels`;
how one project's tests are run, in :mod:`proper_unittest.runner.session`.

``APP_ENV`` is set to "test" on import, before any app or project code is
imported: the modules imported here (the standard library, ``proper`` and
this package) read it only when an app is created.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Literal, NoReturn

from ..isolation.timeout import TIMEOUT_ENV, parse_seconds
from ..errors import ConfigurationError
from .journal import take_private_settings
from .labels import PYTHON_M, Command, Target, current_project, resolve_label
from .problems import UsageError, info
from ..recording.time_spent import ENV_VAR as TIME_SPENT_ENV
from .procs import (
    KEEPDB_ENV, WORKER_ENV, OptionPart, child_command, child_env, remember_starting_environment, start_runner,
    stop_processes, wait_for,
)
from .rerun import MAX_RERUNS, RERUN_ENV
from .results import Counts
from .session import AUTO_PARALLEL_MIN_SECONDS, AUTO_PARALLEL_MIN_TESTS, EXIT_OK, finish, run_guarded, run_project
from .shard import parse_shard
from .signals import forwarding_to, stop_on_signals
from .supervisor import supervised

# An app reads APP_ENV when it is created: set it before any project code is
# imported (nothing imported above creates an app).
os.environ["APP_ENV"] = "test"


DESCRIPTION = """\
Run the tests of a Proper app's project with unittest.

Without LABEL, the project of the current directory: the nearest folder at
or above it whose setup.cfg has [proper_unittest] (or pyproject.toml
[tool.proper_unittest]), else the current directory; its tests/ are
discovered like `python -m unittest discover -s tests -t .` (tests/__init__.py
is imported first, then the app is loaded and checked, then the tests).
{without_labels}
Each LABEL is resolved by the first rule that matches:
{label_rules}  DIR                    a project directory holding tests/, or any other
                         directory, taken as a tests directory
  FILE.py                one test module
  PROJECT:NAME           a dotted test NAME inside a project directory
  NAME                   a dotted test name (module, class or method) in the
                         current directory's project

Labels from different projects run one process per project.  If the project
configures an app (setup.cfg [proper_unittest] app = module:attr, or
pyproject.toml [tool.proper_unittest] app), it must import, be a proper.App
and pass the safety checks (APP_ENV=test, test databases) before any test runs.
"""

EPILOG = f"""\
Output is unittest's, then a last line "N passed, N failed" (plus
", N skipped" when any) on stdout.  Exit status: 0 when every test passed,
1 when some failed, 2 for a usage error (unknown label, test module or app
that cannot be imported, malformed config, unsafe database, no tests found;
nothing is run), 130 on SIGINT (Ctrl-C), 143 on SIGTERM.

After a run with failures, each failed test (at most {MAX_RERUNS}) is rerun
alone in a new process; one that passes alone is labelled "order-dependent"
(counts and exit status unchanged; --no-rerun-failures or {RERUN_ENV}=0
turn this off).  Use --bisect TEST to find the test that breaks it.

Each run records per-test durations and the failed tests under the project's
.proper_unittest/ (durations.json, failed.json).

examples:
  python -m proper_unittest                         # your project's tests/
  proper-unittest tests.test_photos -v              # one module
  proper-unittest -k upload -k 'Photo*Tests.test_list*'
  proper-unittest --shard 2/4 --junitxml report.xml # CI: the 2nd of 4 machines
  proper-unittest --failed                          # rerun what failed last time
  proper-unittest --parallel auto                   # workers only when the run is big enough
  proper-unittest --shuffle=1234                    # the same random order again
  proper-unittest --bisect tests.test_x.XTests.test_y --shuffle=1234  # which test breaks it
"""


def main(argv: Sequence[str] | None = None, prog: str | None = None, command: Command = PYTHON_M) -> int:
    """Run the tests named on the command line; return the exit status.

    *argv* defaults to ``sys.argv[1:]``; *prog* is the command name shown in
    help and error messages; *command* is the script running the runner when
    it is not ``python -m proper_unittest`` (runtests.py: this repository's
    suites, see :class:`~.labels.Command`).
    """
    os.environ["APP_ENV"] = "test"
    parser = build_parser(prog, command)
    args = parser.parse_intermixed_args(normalize_argv(sys.argv[1:] if argv is None else argv))
    args.prog = parser.prog
    if args.junitxml:
        # Taken from where the command was typed (the run moves into the project).
        args.junitxml = os.path.abspath(args.junitxml)
    if args.keepdb:
        os.environ[KEEPDB_ENV] = "1"
    if args.durations is not None:
        # The slowest tests' report says where their time went (workers
        # inherit it); measured only when the report is asked for.
        os.environ[TIME_SPENT_ENV] = "1"
    if args.timeout is not None:
        os.environ[TIMEOUT_ENV] = f"{args.timeout:g}"
    remember_starting_environment()
    take_private_settings()
    if argv is None and not (args.worker or args.ids_file or args.results_file or args.list_only):
        # The command as typed: the run is done in a child this process watches.
        return supervised(lambda: _run(args, parser), args.junitxml)
    return _run(args, parser)


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    with stop_on_signals():
        return run_guarded(args, lambda: dispatch(args, Path.cwd()))


def console_main() -> NoReturn:
    """The ``proper-unittest`` console script."""
    sys.exit(main(prog="proper-unittest"))


def build_parser(prog: str | None = None, command: Command = PYTHON_M) -> argparse.ArgumentParser:
    """Return the argument parser of the runner, run by *command* (``args.command``)."""
    parser = argparse.ArgumentParser(
        prog=prog, epilog=EPILOG + command.help_examples,
        description=DESCRIPTION.format(
            without_labels=command.help_without_labels, label_rules=command.help_label_rules,
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(command=command)
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
        help="after the run, print the N slowest tests, their times and where the time went "
        "(SQL, password hashing, requests, templates, emails, tasks; 0: all)",
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
        help="split the test classes among N worker processes; 'auto': one per CPU core, "
        f"or none (serial) below {AUTO_PARALLEL_MIN_SECONDS:g} s of recorded test time "
        f"(below {AUTO_PARALLEL_MIN_TESTS} tests when no durations are recorded); "
        f"each worker has {WORKER_ENV}=1..N in its environment and its own test databases",
    )
    parser.add_argument(
        "--shard", type=parse_shard, metavar="K/N",
        help="run only the K-th of N shares of the test classes (1 <= K <= N), balanced by "
        "the durations in .proper_unittest/durations.json when there are any, else by test "
        "count; the same on every machine: run K=1..N on N CI machines",
    )
    parser.add_argument(
        "--failed", action="store_true",
        help="run only the tests that failed in the last run (all, when none did)",
    )
    parser.add_argument(
        "--junitxml", metavar="PATH",
        help="write a JUnit XML report of the run (merged across workers) to PATH",
    )
    parser.add_argument(
        "--keepdb", action="store_true",
        help=f"keep the server test databases after the run, for the next one ({KEEPDB_ENV}=1)",
    )
    parser.add_argument(
        "--bisect", metavar="TEST",
        help="find the earlier test that makes TEST (a full id, module.Class.test_method) fail "
        "in the order the other options give (labels, -k, --shuffle=SEED, --reverse): "
        "halves the tests before it, running each half and TEST in a new process; "
        "exit 0 when found, 1 when none, 2 when TEST is not selected or does not fail",
    )
    parser.add_argument(
        "--no-rerun-failures", action="store_true",
        help=f"do not rerun each failed test alone after the run (at most {MAX_RERUNS}; one that "
        f"passes alone is labelled order-dependent); also {RERUN_ENV}=0",
    )
    parser.add_argument(
        "--timeout", type=parse_timeout, metavar="SECONDS",
        help=f"fail a test method that runs longer than SECONDS, with the stack of where it was, "
        f"and go on with the run (0: no limit); sets {TIMEOUT_ENV}, which unittest and pytest "
        "runs read too; a class's own `timeout` attribute wins",
    )
    parser.add_argument(
        "--list", dest="list_only", action="store_true",
        help="print the ids of the tests that would run, one per line, and run none",
    )
    # Internal: how the runner drives its own child processes.
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ids-file", help=argparse.SUPPRESS)
    parser.add_argument("--results-file", help=argparse.SUPPRESS)
    parser.add_argument("--suite-name", help=argparse.SUPPRESS)
    return parser


def parse_timeout(value: str) -> float:
    """--timeout's value: seconds, 0 or more."""
    try:
        seconds = parse_seconds(value, "--timeout")
    except ConfigurationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return seconds or 0.0


def normalize_argv(argv: Iterable[str]) -> list[str]:
    """Make a bare ``--shuffle`` stand alone, so a label after it is not taken as its seed."""
    argv = list(argv)
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        following = argv[index + 1] if index + 1 < len(argv) else ""
        if arg == "--shuffle" and not following.isdigit():
            argv[index] = "--shuffle="
    return argv


def dispatch(args: argparse.Namespace, cwd: Path) -> int:
    """Run what *args* asks for, from directory *cwd*; return the exit status."""
    if args.shuffle is not None:
        # Failure reports print a reproducer line with this seed.
        os.environ["PROPER_UNITTEST_SHUFFLE_SEED"] = str(args.shuffle)
    if args.shuffle is not None and args.results_file is None and not args.list_only:
        info(f"Shuffling with seed {args.shuffle} (repeat this order with --shuffle={args.shuffle})")
    args.given_labels = list(args.labels)  # for the commands printed in hints
    if not args.labels:
        suites = args.command.default_suites(args)
        if suites is not None:
            return run_suites(suites, args, cwd)
        args.labels = [current_project(cwd)]
    targets = [resolve_label(label, cwd, args.command) for label in args.labels]
    projects = group_by_project(targets)
    if len(projects) > 1:
        if args.bisect:
            raise UsageError("--bisect: give labels of one project (its tests define the order)")
        suites = [(str(project), [t.label for t in group]) for project, group in projects.items()]
        return run_suites(suites, args, cwd)
    return run_project(targets, args, cwd)


def group_by_project(targets: Iterable[Target]) -> dict[Path, list[Target]]:
    """Return ``{project_dir: [target, ...]}``, in label order."""
    projects: dict[Path, list[Target]] = {}
    for target in targets:
        projects.setdefault(target.project_dir, []).append(target)
    return projects


# -- several suites, one process each ----------------------------------------


def run_suites(suites: Sequence[tuple[str, Sequence[str]]], args: argparse.Namespace, cwd: Path) -> int:
    """Run each ``(name, labels)`` suite in its own process; return the exit status.

    Every suite is loaded and checked first (``--list``, in parallel), so a
    bad label, test module or app stops the run before any test runs.
    """
    listed = check_suites(suites, args, cwd)
    if args.list_only:
        print("".join(listed), end="", flush=True)
        return EXIT_OK
    started = time.perf_counter()
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
    return finish(total, args, started=started, ok=not failed and total.successful)


def check_suites(
    suites: Sequence[tuple[str, Sequence[str]]], args: argparse.Namespace, cwd: Path,
) -> list[str]:
    """Load every suite in a child process without running it (``--list``).

    Returns each suite's list of test ids (text); raises the first problem
    as a :class:`UsageError`.
    """
    processes = []
    with ExitStack() as forwarding:
        try:
            for _, labels in suites:
                command = child_command(args, labels, ("select", "show", "choose"), ["--list"])
                processes.append(start_runner(command, cwd, child_env(), output=subprocess.PIPE))
                forwarding.enter_context(forwarding_to(processes[-1]))
            outputs = [process.communicate() for process in processes]
        finally:
            stop_processes(processes)
    for (name, _), process, (_, stderr) in zip(suites, processes, outputs):
        if process.returncode != EXIT_OK:
            error = _text(stderr).strip()
            message = error.partition(": error: ")[2] or error
            raise UsageError(f"in {name}: {message}" if message else f"{name}: exit status {process.returncode}")
    return [_text(stdout) for stdout, _ in outputs]


def run_suite_process(
    name: str, labels: Sequence[str], args: argparse.Namespace, cwd: Path, results_path: Path,
) -> tuple[Counts, int]:
    """Run one suite in a child process, output streamed; return ``(counts, exit status)``."""
    extra = ["--suite-name", name, "--results-file", str(results_path)]
    status = wait_for(start_runner(child_command(args, labels, ALL_OPTIONS, extra), cwd, child_env()))
    counts = Counts.load(results_path)
    if counts is None:
        counts = Counts.broken()
    return counts, status


# -- command-line plumbing ---------------------------------------------------

#: A suite's process is given every user-facing option (not --junitxml).
ALL_OPTIONS: tuple[OptionPart, ...] = ("select", "show", "choose", "order", "run")


def _text(output: bytes) -> str:
    """A child's captured output as text."""
    return output.decode(errors="replace")


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _parse_seed(text: str) -> int:
    """Return the shuffle seed: *text* as a number, or a random one when empty."""
    if text == "":
        return random.randrange(10**6)
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the seed must be a whole number, got {text!r}") from None


def _parse_parallel(text: str) -> int | Literal["auto"]:
    """Return the worker count: a number >= 1, or 'auto' (decided once the tests are loaded)."""
    if text == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1 or 'auto', got {text!r}")
    return value
