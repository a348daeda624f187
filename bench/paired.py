#!/usr/bin/env python
"""Per-test A/F with A and F run at the same time, one on each core.

On a machine whose speed moves from minute to minute (a shared virtual
machine: the same run can take 30% longer a minute later), ``run.py``'s
rounds, which run one command after the other, compare A with an F that
ran at another speed. Here every round starts A's and F's full runs
together, then their one-test "empty" runs together, so each ratio
compares two runs that saw the same machine (which of the two starts
first alternates). Per test = (full - empty) / N, as in ``run.py``; wall
time (each process reaped as it ends) and each process's own CPU time
(``wait4``: the run and the processes it waited for).

The two cores do not keep the same speed either: ``--calibrate`` runs F in
both places, so the ratio it prints (of the same code) shows how far the
machine alone moves a ratio over that many rounds.

A and F must not share a server database (A holds its test database for
the run): F uses --floor-database-url (by default the same URL with
``_floor`` before a final ``_test``, e.g. ``bench_photos_floor_test``; the
database must exist, as for ``run.py``).

    .venv/bin/python bench/paired.py [--tests 1000] [--repeats 7] [--calibrate]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench_photos_test]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import DEFAULT_DATABASE_URL, BrokenRun, Job, check_run, child_env, write_project  # noqa: E402


def floor_url(url):
    """F's database: `url`'s database name with _floor before a final _test."""
    if url.startswith("sqlite") and ":memory:" in url:
        return url
    base, _, name = url.rpartition("/")
    stem = name[:-len("_test")] if name.endswith("_test") else name
    return f"{base}/{stem}_floor_test"


def together(slots):
    """Run the slots' full or empty jobs at the same time (`slots`: label ->
    (job, env)); {label: (wall, cpu)}. Each output goes to a file, and
    whichever process ends first is reaped first, so each wall time is its
    own (reading one pipe, then the other, would give the one that ended
    first the other's end)."""
    running = {}
    for label, (job, env) in slots.items():
        command, cwd = job.command()
        output = tempfile.TemporaryFile("w+")
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
        running[process.pid] = (label, job, process, output, time.perf_counter())
    measured = {}
    while running:
        pid, status, usage = os.wait4(-1, 0)
        ended = time.perf_counter()
        if pid not in running:
            continue
        label, job, process, output, started = running.pop(pid)
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        command, cwd = job.command()
        check_run(job, command, cwd, subprocess.CompletedProcess(command, process.returncode, output.read(), ""))
        output.close()
        measured[label] = (ended - started, usage.ru_utime + usage.ru_stime)
    return measured


def describe(values):
    """'median (lowest-highest)'."""
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main(argv=None):
    """Write the projects, run the paired rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--floor-database-url", default=None)
    parser.add_argument("--calibrate", action="store_true",
                        help="run F in both places (F1 on --database-url): the ratio of the same code, "
                             "so how far the machine alone moves the A/F ratio")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="proper-paired-"))
    # (label, style, database): the first is measured against the second.
    first = ("F1", "F") if args.calibrate else ("A", "A")
    second = ("F2", "F") if args.calibrate else ("F", "F")
    urls = {first[0]: args.database_url, second[0]: args.floor_database_url or floor_url(args.database_url)}
    envs = {label: child_env(urls[label], tmp / f"pycache-{label}") for label, _ in (first, second)}
    jobs = {}
    for kind, count in (("empty", 0), ("full", args.tests)):
        for label, style in (first, second):
            project = tmp / f"{label}-{kind}"
            write_project(project, style, count)
            jobs[label, kind] = Job(style, kind, project, expected_passed=count or 1)
    labels = (first[0], second[0])
    ratios = {"wall": [], "cpu": []}
    per_test = {(label, measure): [] for label in labels for measure in ("wall", "cpu")}

    def slots(kind, round_number):
        # Which starts first alternates from round to round.
        order = labels if round_number % 2 else labels[::-1]
        return {label: (jobs[label, kind], envs[label]) for label in order}

    try:
        for kind in ("empty", "full"):  # warm-up: bytecode caches, schemas
            together(slots(kind, 0))
        for round_number in range(1, args.repeats + 1):
            full = together(slots("full", round_number))
            empty = together(slots("empty", round_number))
            for index, measure in enumerate(("wall", "cpu")):
                tests = {label: (full[label][index] - empty[label][index]) / args.tests * 1000 for label in labels}
                for label in labels:
                    per_test[label, measure].append(tests[label])
                ratios[measure].append(tests[labels[0]] / tests[labels[1]])
            print(f"round {round_number}/{args.repeats}: {labels[0]}/{labels[1]} wall {ratios['wall'][-1]:.3f}, "
                  f"cpu {ratios['cpu'][-1]:.3f}", file=sys.stderr, flush=True)
    except BrokenRun as error:
        print(f"paired: broken run, no results: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.tests} tests, {args.repeats} paired rounds, {args.database_url}; median (range over rounds)")
    for measure in ("wall", "cpu"):
        cells = "  ".join(f"{label} {describe(per_test[label, measure])}" for label in labels)
        print(f"  {measure:4s} ms/test  {cells}  {labels[0]}/{labels[1]} per test {describe(ratios[measure])}"
              f"  mean {statistics.fmean(ratios[measure]):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
