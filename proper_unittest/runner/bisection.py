"""``--bisect TEST``: find the earlier test that makes TEST fail in a given order.

The order is the run's own (labels, ``-k``, ``--shard``, ``--failed``,
``--shuffle=SEED`` or ``--reverse``).  First TEST is run after every test
before it (it must fail) and alone (it must pass); then the tests before it
are halved again and again, each half run with TEST in a fresh child process
(:mod:`.child_runs`), keeping the half after which TEST still fails, until
one test is left.  That assumes one culprit; when TEST only fails after
several tests together, the last check (the culprit and TEST alone) says so.

Exit status: 0 with a culprit, 1 without one (TEST fails alone too, or no
single test makes it fail), 2 when TEST does not fail in this order or is
not one of the selected tests.
"""

import argparse
import os
import shlex
import tempfile
import unittest
from collections.abc import Sequence
from pathlib import Path

from .child_runs import ChildCrashed, ChildRunner
from .supervisor import run_folder
from .labels import find_project
from .problems import UsageError, info

EXIT_CULPRIT, EXIT_NO_CULPRIT, EXIT_NOT_REPRODUCED = 0, 1, 2


def bisect_order(
    test_id: str, tests: Sequence[unittest.TestCase], args: argparse.Namespace, cwd: Path, project: Path
) -> int:
    """Find the test before *test_id* in *tests* (the run's order) that makes it fail.

    Prints progress on stderr and the result on stdout; returns the exit status.
    """
    ids = [test.id() for test in tests]
    if test_id not in ids:
        raise UsageError(
            f"--bisect: {test_id!r} is not one of the {len(ids)} selected tests "
            "(give a full test id, module.Class.test_method, that the labels and -k select; "
            "see --list)"
        )
    before = ids[:ids.index(test_id)]
    if not before:
        info(f"--bisect: {test_id} is the first test in this order: no earlier test can make it fail")
        return EXIT_NO_CULPRIT
    with tempfile.TemporaryDirectory(prefix="proper_unittest-", dir=run_folder()) as tmp:
        runner = ChildRunner(args, cwd, tmp, "bisect")
        try:
            return _bisect(runner, test_id, before, cwd, project)
        except ChildCrashed as crash:
            info(f"--bisect: stopped: {crash.describe()}")
            return EXIT_NO_CULPRIT


def _bisect(runner: ChildRunner, test_id: str, before: list[str], cwd: Path, project: Path) -> int:
    info(f"--bisect: running {test_id} after the {len(before)} test(s) before it")
    if not runner.run([*before, test_id]).failed(test_id):
        info(
            f"--bisect: {test_id} passes after the {len(before)} test(s) before it: it does not "
            "fail in this order (give the labels, -k and --shuffle=SEED or --reverse of the run "
            "where it failed)"
        )
        return EXIT_NOT_REPRODUCED
    if runner.run([test_id]).failed(test_id):
        info(f"--bisect: {test_id} fails when run alone too: no earlier test causes it")
        return EXIT_NO_CULPRIT
    candidates = before
    while len(candidates) > 1:
        half = candidates[:len(candidates) // 2]
        fails = runner.run([*half, test_id]).failed(test_id)
        info(f"--bisect: {len(candidates)} candidates; after the first {len(half)}, "
              f"{test_id} {'fails' if fails else 'passes'}")
        candidates = half if fails else candidates[len(half):]
    (culprit,) = candidates
    if not runner.run([culprit, test_id]).failed(test_id):
        info(f"--bisect: no single earlier test makes {test_id} fail "
              f"(it may take several together); {runner.runs} runs")
        return EXIT_NO_CULPRIT
    print(f"{test_id} fails after {culprit}", flush=True)
    print("Reproduce with:", flush=True)
    print("  " + reproducer(culprit, test_id, cwd, project), flush=True)
    return EXIT_CULPRIT


def reproducer(culprit: str, test_id: str, cwd: Path, project: Path) -> str:
    """Return the command that runs *culprit* then *test_id*, typed in *cwd*."""
    if (find_project(cwd) or Path(cwd).resolve()) == Path(project).resolve():
        labels = [culprit, test_id]
    else:
        where = os.path.relpath(project, cwd)
        labels = [f"{where}:{culprit}", f"{where}:{test_id}"]
    return shlex.join(["python", "-m", "proper_unittest", *labels])
