#!/usr/bin/env python
"""Instructions per test, A against F, counted by callgrind (load-independent).

The wall and CPU times of ``bench/run.py`` move with the machine's load;
the number of instructions a run executes does not.  This script writes the
same projects as ``bench/run.py`` (style A, ProperTestCase classes under
``runtests.py``, and style F, the floor) at two sizes, runs each under
``valgrind --tool=callgrind`` (children followed, every process's
instructions summed) and reports per test

    (instructions of the long run - instructions of the short run) / (tests between them)

By default only the test run itself is counted: a ``sitecustomize`` module
put first on the path runs the outermost unittest suite inside
``functools.reduce``, and callgrind counts only inside that C function
(``--toggle-collect=functools_reduce``), so the interpreter's start-up,
the imports and the schema are not counted at all (the first class's
one-time set-up still is, and cancels out in the difference).
``--whole-process`` counts everything instead (its start-up varies by some
millions of instructions from run to run).  Both sizes are
whole classes (10 tests each, 10 classes a module), so the class set-up is
in the per-test figure at its share of one class per 10 tests, as in
``run.py``.  The hash seed is fixed and the bytecode cache warmed by one
plain run of each project first.  What is left varies from run to run
(temporary paths, addresses, when the garbage collector runs): the same
code counted twice at 10 and 30 tests gave 27.86 and 28.03 M a test, so
compare changes over a wide span (the default, 10 and 110 tests, divides
that by 100).

    .venv/bin/python bench/instructions.py [--short 10] [--long 110]
        [--database-url sqlite:///:memory:] [--database-url postgresql://...] [--style A,F]
        [--keep] [--whole-process] [--cache-sim]

Instructions are not cycles: a run can execute fewer and still take longer
if it misses the caches more or mispredicts more branches. ``--cache-sim``
has callgrind simulate the caches and the branch predictor too, and adds
per test the misses, the mispredictions and an estimate of cycles
(instructions plus about 10 cycles a first-level miss or misprediction and
100 a last-level miss) that the machine's own counters would give where a
virtual machine exposes none.

A server database must exist (``createdb``), as for ``run.py``.  With
--keep the callgrind files stay (path printed) for ``callgrind_annotate``.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import BrokenRun, Job, check_run, child_env, write_project  # noqa: E402


# Put first on the path of the counted runs (see the module doc): the
# outermost suite runs inside functools.reduce, where callgrind counts.
TEST_RUN_ONLY = """\
import functools
import unittest.suite

_run_suite = unittest.suite.BaseTestSuite.__call__
_depth = [0]


def _counted(self, *args, **kwargs):
    if _depth[0]:
        return _run_suite(self, *args, **kwargs)
    _depth[0] += 1
    try:
        return functools.reduce(lambda _, __: _run_suite(self, *args, **kwargs), [None], None)
    finally:
        _depth[0] -= 1


unittest.suite.BaseTestSuite.__call__ = _counted
"""


def test_run_only_env(env, folder):
    """`env` with the sitecustomize of TEST_RUN_ONLY first on the path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(TEST_RUN_ONLY)
    return {**env, "PYTHONPATH": os.pathsep.join([str(folder), env.get("PYTHONPATH", "")])}


def callgrind_events(job, env, out_dir, test_run_only=True, cache_sim=False):
    """Run `job` once under callgrind; return its event totals, all its
    processes together (of the test run only, by default): {"Ir": ...},
    and with `cache_sim` the simulated cache misses and branch mispredictions
    too."""
    command, cwd = job.command()
    out_dir.mkdir(parents=True)
    valgrind = [
        "valgrind", "--tool=callgrind", "--trace-children=yes",
        f"--callgrind-out-file={out_dir}/callgrind.out.%p",
    ]
    if test_run_only:
        valgrind[2:2] = ["--collect-atstart=no", "--toggle-collect=functools_reduce"]
    if cache_sim:
        valgrind[2:2] = ["--cache-sim=yes", "--branch-sim=yes"]
    completed = subprocess.run(valgrind + command, cwd=cwd, env=env, capture_output=True, text=True)
    check_run(job, command, cwd, completed)
    totals = {}
    for path in out_dir.glob("callgrind.out.*"):
        names = ["Ir"]
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("events:"):
                names = line.split()[1:]
            elif line.startswith(("summary:", "totals:")):
                # Trailing zero counts are left out of the line.
                for name, value in zip(names, line.split()[1:]):
                    totals[name] = totals.get(name, 0) + int(value)
                break
    if not totals.get("Ir"):
        raise BrokenRun(f"{job.name}: no callgrind totals in {out_dir}")
    return totals


def estimated_cycles(events):
    """Instructions plus a price for each simulated miss: about 10 cycles
    for a first-level cache miss or a mispredicted branch, 100 for a
    last-level miss (the orders of magnitude the Cachegrind manual gives)."""
    first_level = events.get("I1mr", 0) + events.get("D1mr", 0) + events.get("D1mw", 0)
    last_level = events.get("ILmr", 0) + events.get("DLmr", 0) + events.get("DLmw", 0)
    mispredicted = events.get("Bcm", 0) + events.get("Bim", 0)
    return events["Ir"] + 10 * first_level + 100 * last_level + 10 * mispredicted


def measure(style, sizes, env, tmp, test_run_only=True, cache_sim=False):
    """Callgrind's event totals of `style`'s runs at each size: {size: {event: total}}."""
    counts = {}
    if test_run_only:
        env = test_run_only_env(env, tmp / "boot")
    for size in sizes:
        project = tmp / f"{style}-{size}"
        write_project(project, style, size)
        job = Job(style, str(size), project, size)
        command, cwd = job.command()
        check_run(job, command, cwd, subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True))
        counts[size] = callgrind_events(job, env, tmp / f"callgrind-{style}-{size}", test_run_only, cache_sim)
        print(f"  {style} {size} tests: {counts[size]['Ir']:,} instructions", file=sys.stderr, flush=True)
    return counts


def parse_args(argv=None):
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", type=int, default=10, help="tests in the short run (default 10)")
    parser.add_argument("--long", type=int, default=110, help="tests in the long run (default 110)")
    parser.add_argument(
        "--database-url", action="append", dest="urls",
        help="TEST_DATABASE_URL, repeatable (default sqlite:///:memory:)",
    )
    parser.add_argument("--style", default="A,F", help="styles to count (default A,F)")
    parser.add_argument("--keep", action="store_true", help="keep the projects and callgrind files")
    parser.add_argument(
        "--whole-process", action="store_true",
        help="count the whole processes (start-up included), not only the test run",
    )
    parser.add_argument(
        "--cache-sim", action="store_true",
        help="also simulate the caches and branch predictor: misses, mispredictions and an "
             "estimate of cycles per test (about twice as slow)",
    )
    args = parser.parse_args(argv)
    if args.short % 10 or args.long % 10 or not 0 < args.short < args.long <= 1000:
        parser.error("--short and --long: whole classes (multiples of 10), short < long <= 1000")
    return args


def main(argv=None):
    """Count, print A and F per test and A/F, per database."""
    args = parse_args(argv)
    styles = [s.strip() for s in args.style.split(",") if s.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="proper-instructions-"))
    lines = []
    try:
        for url in args.urls or ["sqlite:///:memory:"]:
            print(url, file=sys.stderr, flush=True)
            env = child_env(url, tmp / "pycache")
            env["PYTHONHASHSEED"] = "0"
            per_test = {}
            for style in styles:
                counts = measure(style, (args.short, args.long), env, tmp / url.split(":", 1)[0],
                                 test_run_only=not args.whole_process, cache_sim=args.cache_sim)
                short, long_ = counts[args.short], counts[args.long]
                if args.cache_sim:
                    short, long_ = ({**c, "cycles": estimated_cycles(c)} for c in (short, long_))
                per_test[style] = {name: (long_[name] - short.get(name, 0)) / (args.long - args.short)
                                   for name in long_}
            cells = "  ".join(f"{style} {value['Ir'] / 1e6:.3f} M" for style, value in per_test.items())
            ratio = f"  A/F {per_test['A']['Ir'] / per_test['F']['Ir']:.4f}" if {"A", "F"} <= per_test.keys() else ""
            lines.append(f"{url}: instructions per test {cells}{ratio}")
            if args.cache_sim:
                for name in ("cycles", "D1mr", "D1mw", "I1mr", "DLmr", "DLmw", "ILmr", "Bcm", "Bim"):
                    cells = "  ".join(f"{style} {value.get(name, 0):,.0f}" for style, value in per_test.items())
                    both = {"A", "F"} <= per_test.keys() and per_test["F"].get(name)
                    ratio = f"  A/F {per_test['A'].get(name, 0) / per_test['F'][name]:.4f}" if both else ""
                    lines.append(f"  {name:6s} per test {cells}{ratio}")
    except BrokenRun as error:
        print(f"instructions: broken run: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"tests {args.short} and {args.long}, per test = difference / {args.long - args.short}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.exit(main())
