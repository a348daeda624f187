"""Rerun each failed test alone, to tell order-dependent failures from genuine ones.

After a run (serial or ``--parallel``) with failures, each failed test is
run again alone in a fresh child process (:mod:`.child_runs`).  One that
passes there failed only because of the tests that ran before it: the
closing summary labels it "order-dependent" and shows the ``--bisect``
command that finds the culprit.  The counts and exit status do not change.

At most :data:`MAX_RERUNS` failed tests are rerun (more failures than that
rarely all depend on the order, and each rerun starts a process); turn the
reruns off with ``--no-rerun-failures`` or ``PROPER_UNITTEST_RERUN_FAILURES=0``.
"""

import argparse
import os
import shlex
import tempfile
from pathlib import Path

from .child_runs import ChildCrashed, ChildRunner
from .problems import info
from .procs import runner_options
from .records import failed_ids
from .supervisor import run_folder
from .results import Counts

#: Environment variable: "0" turns the reruns off (like ``--no-rerun-failures``).
RERUN_ENV = "PROPER_UNITTEST_RERUN_FAILURES"
#: The most failed tests rerun alone; with more, none is.
MAX_RERUNS = 10


def rerun_enabled(args: argparse.Namespace) -> bool:
    """True unless ``--no-rerun-failures`` or ``PROPER_UNITTEST_RERUN_FAILURES=0`` says otherwise."""
    off = os.environ.get(RERUN_ENV, "").strip().lower() in ("0", "false", "no", "off")
    return not args.no_rerun_failures and not off


def report_order_dependent(counts: Counts, args: argparse.Namespace, cwd: Path) -> None:
    """Rerun the failed tests of *counts* alone and print which are order-dependent (stderr)."""
    if counts.successful or not rerun_enabled(args):
        return
    failed = failed_ids(counts.records, tests_only=True)
    if not failed:
        return
    if len(failed) > MAX_RERUNS:
        info(f"{len(failed)} tests failed, more than {MAX_RERUNS}: not rerunning them alone "
              f"to find order-dependent failures (--no-rerun-failures turns this off)")
        return
    info(f"Rerunning {len(failed)} failed test(s) alone, each in a new process "
          "(--no-rerun-failures turns this off)")
    with tempfile.TemporaryDirectory(prefix="proper_unittest-", dir=run_folder()) as tmp:
        runner = ChildRunner(args, cwd, tmp, "rerun")
        passing_alone = [test_id for test_id in failed if _passes_alone(runner, test_id)]
    if not passing_alone:
        info("Every failed test fails when run alone too (none is order-dependent).")
        return
    lines = [f"Order-dependent failures ({len(passing_alone)}: failed in this run, pass when run alone):"]
    for test_id in passing_alone:
        lines.append(f"  {test_id}  [order-dependent]")
    lines.append("Find the earlier test that makes one fail:")
    lines.append("  " + bisect_command(passing_alone[0], args))
    info("\n".join(lines))


def _passes_alone(runner: ChildRunner, test_id: str) -> bool:
    try:
        return not runner.run([test_id]).failed(test_id)
    except ChildCrashed as crash:
        info(f"Rerunning {test_id} alone: {crash.describe()}")
        return False


def bisect_command(test_id: str, args: argparse.Namespace) -> str:
    """The ``--bisect`` command for *test_id* in the order of this run."""
    options = runner_options(args, "select", "choose", "order")
    command = ["python", *args.command.shown_entry, "--bisect", test_id, *options]
    return shlex.join([*command, *getattr(args, "given_labels", args.labels)])
