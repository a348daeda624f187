"""Run given tests, in a given order, in a fresh child process of the runner.

Used by ``--bisect`` and by the rerun of failed tests alone.  The child is
the runner itself, on the parent's labels, with ``--ids-file`` (the ids, in
order; nothing is reordered or selected) and ``--results-file`` (its
counts and per-test records).  Its output is collected, not shown.  It gets
its own copy of every server or file test database (``PROPER_UNITTEST_WORKER``
is set to a name, so the database is ``<name>_<that name>``), so it never
touches the parent's, and drops it when it ends, even under ``--keepdb``.
"""

import argparse
import json
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..databases.provision import CREATED_ENV, drop_created_databases
from .journal import JOURNAL_ENV
from .overdue import OverdueWatch
from .procs import KEEPDB_ENV, WORKER_ENV, child_command, child_env_from_start, start_runner, wait_for
from .records import FAILED_OUTCOMES
from .results import Counts


class ChildCrashed(Exception):
    """A child exited without reporting results (it crashed, or could not load the tests)."""

    def __init__(self, status: int, output: str) -> None:
        super().__init__(f"the child process exited with status {status} without reporting results")
        self.status = status
        self.output = output

    def describe(self) -> str:
        """The message and the end of the child's output."""
        tail = "\n".join(self.output.strip().splitlines()[-20:])
        return f"{self}; the end of its output:\n{tail}" if tail else str(self)


@dataclass
class ChildRun:
    """What one child run reported: its counts (with records), exit status and output."""

    counts: Counts
    status: int
    output: str

    def failed(self, test_id: str) -> bool:
        """True unless the test *test_id* ran and did not fail.

        A test that never ran (its class or module fixture failed) counts as
        failed.
        """
        return not any(
            record["id"] == test_id and not record.get("fixture")
            and record["outcome"] not in FAILED_OUTCOMES
            for record in self.counts.records
        )


class ChildRunner:
    """Runs lists of test ids in child processes; one per call, each in a fresh process.

    *args* are the parent's (the child loads the same tests: the labels
    and -k); *cwd* is where the command was typed; *tmp* a folder for the
    ids, results and output files; *name* names the child's databases.
    """

    def __init__(self, args: argparse.Namespace, cwd: Path, tmp: str | os.PathLike[str], name: str) -> None:
        self.args = args
        self.cwd = cwd
        self.tmp = Path(tmp)
        self.name = name
        self.runs = 0

    def run(self, test_ids: Iterable[str]) -> ChildRun:
        """Run *test_ids* in that order in a new child process; return its :class:`ChildRun`."""
        self.runs += 1
        ids_path = self.tmp / f"{self.name}{self.runs}-ids.json"
        results_path = self.tmp / f"{self.name}{self.runs}-results.json"
        output_path = self.tmp / f"{self.name}{self.runs}-output.txt"
        ids_path.write_text(json.dumps(list(test_ids)), encoding="utf-8")
        extra = ["--ids-file", str(ids_path), "--results-file", str(results_path)]
        created_path = self.tmp / f"{self.name}{self.runs}-created.jsonl"
        journal_path = self.tmp / f"{self.name}{self.runs}-journal.jsonl"
        # From the environment the run started with: a test that changed
        # os.environ must not make its rerun (or a bisect step) fail too.
        env = child_env_from_start(**{
            WORKER_ENV: self.name, CREATED_ENV: str(created_path), JOURNAL_ENV: str(journal_path),
        })
        # Its databases are its own, made for this one check: never kept.
        env.pop(KEEPDB_ENV, None)
        command = child_command(self.args, self.args.labels, ("select",), extra)
        overdue = OverdueWatch(journal_path)
        try:
            process = start_runner(command, self.cwd, env, output=output_path, stdin=subprocess.DEVNULL)
            status = wait_for(process, overdue)
        finally:
            counts = Counts.load(results_path)
            if counts is None:  # it died (or was stopped): what it created goes
                drop_created_databases(created_path)
        output = output_path.read_text(encoding="utf-8", errors="replace")
        if counts is None:
            killed = overdue.explain()
            raise ChildCrashed(status, output + (f"\n{killed}." if killed else ""))
        return ChildRun(counts, status, output)

