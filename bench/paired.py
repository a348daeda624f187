#!/usr/bin/env python
"""Per-test A/F with A and F run at the same time, one on each core.

On a machine whose speed moves from minute to minute (a shared virtual
machine: the same run can take 30% longer a minute later), ``run.py``'s
rounds, which run one command after the other, compare A with an F that
ran at another speed. Here every round starts A's and F's full runs
together, then their one-test "empty" runs together, so each ratio
compares two runs that saw the same machine. Per test = (full - empty) / N,
as in ``run.py``; wall time and each process's own CPU time (``wait4``: the
run and the processes it waited for).

A and F must not share a server database (A holds its test database for
the run): F uses --floor-database-url (by default the same URL with
``_floor`` before a final ``_test``, e.g. ``bench_photos_floor_test``; the
database must exist, as for ``run.py``).

    .venv/bin/python bench/paired.py [--tests 1000] [--repeats 7]
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


def start(job, env):
    """Start `job`; return (process, start time)."""
    command, cwd = job.command()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    return process, time.perf_counter()


def finish(job, process, started):
    """Wait for `process` (of `job`); return its wall and CPU seconds."""
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    command, cwd = job.command()
    check_run(job, command, cwd, subprocess.CompletedProcess(command, process.returncode, output, ""))
    return elapsed, usage.ru_utime + usage.ru_stime


def together(jobs_and_envs):
    """Run the jobs at the same time; {style: (wall, cpu)}."""
    started = [(job, *start(job, env)) for job, env in jobs_and_envs]
    return {job.style: finish(job, process, begun) for job, process, begun in started}


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
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="proper-paired-"))
    envs = {
        "A": child_env(args.database_url, tmp / "pycache-A"),
        "F": child_env(args.floor_database_url or floor_url(args.database_url), tmp / "pycache-F"),
    }
    jobs = {}
    for kind, count in (("empty", 0), ("full", args.tests)):
        for style in "AF":
            project = tmp / f"{style}-{kind}"
            write_project(project, style, count)
            jobs[style, kind] = Job(style, kind, project, expected_passed=count or 1)
    ratios = {"wall": [], "cpu": []}
    per_test = {(style, measure): [] for style in "AF" for measure in ("wall", "cpu")}
    try:
        for kind in ("empty", "full"):  # warm-up: bytecode caches, schemas
            together([(jobs[style, kind], envs[style]) for style in "AF"])
        for round_number in range(1, args.repeats + 1):
            full = together([(jobs[style, "full"], envs[style]) for style in "AF"])
            empty = together([(jobs[style, "empty"], envs[style]) for style in "AF"])
            for index, measure in enumerate(("wall", "cpu")):
                tests = {s: (full[s][index] - empty[s][index]) / args.tests * 1000 for s in "AF"}
                for style in "AF":
                    per_test[style, measure].append(tests[style])
                ratios[measure].append(tests["A"] / tests["F"])
            print(f"round {round_number}/{args.repeats}: A/F wall {ratios['wall'][-1]:.3f}, "
                  f"cpu {ratios['cpu'][-1]:.3f}", file=sys.stderr, flush=True)
    except BrokenRun as error:
        print(f"paired: broken run, no results: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.tests} tests, {args.repeats} paired rounds, {args.database_url}; median (range over rounds)")
    for measure in ("wall", "cpu"):
        print(f"  {measure:4s} ms/test  A {describe(per_test['A', measure])}  F {describe(per_test['F', measure])}"
              f"  A/F per test {describe(ratios[measure])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
