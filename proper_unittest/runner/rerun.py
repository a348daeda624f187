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
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .child_runs import ChildCrashed, ChildRunner, child_options
from .records import FAILED_OUTCOMES
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


def failed_test_ids(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The ids of the failed tests in *records* (not fixtures), in run order, once each."""
    return list(dict.fromkeys(
        record["id"] for record in records
        if record["outcome"] in FAILED_OUTCOMES and not record.get("fixture")
    ))


def report_order_dependent(counts: Counts, args: argparse.Namespace, cwd: Path) -> None:
    """Rerun the failed tests of *counts* alone and print which are order-dependent (stderr)."""
    if counts.successful or not rerun_enabled(args):
        return
    failed = failed_test_ids(counts.records)
    if not failed:
        return
    if len(failed) > MAX_RERUNS:
        _info(f"{len(failed)} tests failed, more than {MAX_RERUNS}: not rerunning them alone "
              f"to find order-dependent failures (--no-rerun-failures turns this off)")
        return
    _info(f"Rerunning {len(failed)} failed test(s) alone, each in a new process "
          "(--no-rerun-failures turns this off)")
    with tempfile.TemporaryDirectory(prefix="proper_unittest-", dir=run_folder()) as tmp:
        runner = ChildRunner(args.labels, child_options(args), cwd, tmp, "rerun")
        passing_alone = [test_id for test_id in failed if _passes_alone(runner, test_id)]
    if not passing_alone:
        _info("Every failed test fails when run alone too (none is order-dependent).")
        return
    lines = [f"Order-dependent failures ({len(passing_alone)}: failed in this run, pass when run alone):"]
    for test_id in passing_alone:
        lines.append(f"  {test_id}  [order-dependent]")
    lines.append("Find the earlier test that makes one fail:")
    lines.append("  " + bisect_command(passing_alone[0], args))
    _info("\n".join(lines))


def _passes_alone(runner: ChildRunner, test_id: str) -> bool:
    try:
        return not runner.run([test_id]).failed(test_id)
    except ChildCrashed as crash:
        _info(f"Rerunning {test_id} alone: {crash.describe()}")
        return False


def bisect_command(test_id: str, args: argparse.Namespace) -> str:
    """The ``--bisect`` command for *test_id* in the order of this run."""
    entry = ["runtests.py"] if args.repo else ["-m", "proper_unittest"]
    command = ["python", *entry, "--bisect", test_id]
    for pattern in args.patterns or ():
        command += ["-k", pattern]
    if args.shard:
        command.append(f"--shard={args.shard[0]}/{args.shard[1]}")
    command += ["--failed"] if args.failed else []
    if args.shuffle is not None:
        command.append(f"--shuffle={args.shuffle}")
    command += ["--reverse"] if args.reverse else []
    return shlex.join([*command, *getattr(args, "given_labels", args.labels)])


def _info(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
