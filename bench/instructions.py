#!/usr/bin/env python
"""Instructions per test, A against F, counted by callgrind (load-independent).

The wall and CPU times of ``bench/run.py`` move with the machine's load;
the number of instructions a run executes does not.  This script writes the
same projects as ``bench/run.py`` (style A, ProperTestCase classes under
``runtests.py``, and style F, the floor) at two sizes, runs each whole
process under ``valgrind --tool=callgrind`` (children followed, every
process's instructions summed) and reports per test

    (instructions of the long run - instructions of the short run) / (tests between them)

so start-up (interpreter, imports, schema) cancels out.  Both sizes are
whole classes (10 tests each) in one module, so the class set-up is in the
per-test figure at its share of one class per 10 tests, as in ``run.py``.
The hash seed is fixed and the bytecode cache warmed by one plain run of
each project first.  Start-up still varies by some millions of instructions
from run to run (temporary paths, timers), so a wider span (--long 60)
divides that noise by more tests.

    .venv/bin/python bench/instructions.py [--short 20] [--long 60]
        [--database-url sqlite:///:memory:] [--database-url postgresql://...] [--style A,F]
        [--keep]

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


def callgrind_total(job, env, out_dir):
    """Run `job` once under callgrind; return the instructions of all its
    processes together."""
    command, cwd = job.command()
    out_dir.mkdir(parents=True)
    valgrind = [
        "valgrind", "--tool=callgrind", "--trace-children=yes",
        f"--callgrind-out-file={out_dir}/callgrind.out.%p",
    ]
    completed = subprocess.run(valgrind + command, cwd=cwd, env=env, capture_output=True, text=True)
    check_run(job, command, cwd, completed)
    total = 0
    for path in out_dir.glob("callgrind.out.*"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                total += int(line.split()[1])
                break
    if not total:
        raise BrokenRun(f"{job.name}: no callgrind totals in {out_dir}")
    return total


def measure(style, sizes, env, tmp):
    """Instructions of `style`'s runs at each size: {size: instructions}."""
    counts = {}
    for size in sizes:
        project = tmp / f"{style}-{size}"
        write_project(project, style, size)
        job = Job(style, str(size), project, size)
        command, cwd = job.command()
        check_run(job, command, cwd, subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True))
        counts[size] = callgrind_total(job, env, tmp / f"callgrind-{style}-{size}")
        print(f"  {style} {size} tests: {counts[size]:,} instructions", file=sys.stderr, flush=True)
    return counts


def parse_args(argv=None):
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", type=int, default=20, help="tests in the short run (default 20)")
    parser.add_argument("--long", type=int, default=60, help="tests in the long run (default 60)")
    parser.add_argument(
        "--database-url", action="append", dest="urls",
        help="TEST_DATABASE_URL, repeatable (default sqlite:///:memory:)",
    )
    parser.add_argument("--style", default="A,F", help="styles to count (default A,F)")
    parser.add_argument("--keep", action="store_true", help="keep the projects and callgrind files")
    args = parser.parse_args(argv)
    if args.short % 10 or args.long % 10 or not 0 < args.short < args.long <= 100:
        parser.error("--short and --long: whole classes (multiples of 10), short < long <= 100")
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
                counts = measure(style, (args.short, args.long), env, tmp / url.split(":", 1)[0])
                per_test[style] = (counts[args.long] - counts[args.short]) / (args.long - args.short)
            cells = "  ".join(f"{style} {value / 1e6:.3f} M" for style, value in per_test.items())
            ratio = f"  A/F {per_test['A'] / per_test['F']:.4f}" if {"A", "F"} <= per_test.keys() else ""
            lines.append(f"{url}: instructions per test {cells}{ratio}")
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
