#!/usr/bin/env python
"""What the serial run's supervisor (the fork that keeps the report out of
the tests' reach, see proper_unittest/runner/supervisor.py) costs.

Two commands on the same generated project (bench/run.py's style A,
ProperTestCase tests against examples/myapp), alternated round by round
(each round starts with the other one), after one untimed warm-up each:

- supervised: ``runtests.py PROJECT``, as typed: forks, the child runs;
- direct: the same ``main()`` called with its arguments given, which runs
  in the one process (as the runner's own child processes do).

Per round: the ratio supervised / direct of the wall times and of the CPU
times (user + system of the command and every process it waited for).
Printed: the medians of each command and of the ratios, with their range.

    .venv/bin/python bench/supervisor_cost.py [--tests 100] [--repeats 9]
"""
import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.run import child_env, count_passed, timed_run, write_project  # noqa: E402

DIRECT = (
    "import sys; sys.path.insert(0, {repo!r}); import os; os.environ['APP_ENV'] = 'test'; "
    "from proper_unittest.runner import main; from runtests import RepositorySuites; "
    "sys.exit(main(sys.argv[1:], prog='runtests.py', command=RepositorySuites()))"
)


def commands(project: Path) -> dict[str, list[str]]:
    """The two commands to compare, by name."""
    return {
        "supervised": [sys.executable, str(REPO / "runtests.py"), str(project)],
        "direct": [sys.executable, "-c", DIRECT.format(repo=str(REPO)), str(project)],
    }


def run_once(command: list[str], env: dict[str, str], expected: int) -> tuple[float, float]:
    """Wall and CPU seconds of one run; exits if the run did not pass *expected* tests."""
    done, wall, cpu = timed_run(command, REPO, env)
    if done.returncode != 0 or count_passed("A", done.stdout + done.stderr) != expected:
        sys.exit(f"run failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return wall, cpu


def spread(values: list[float]) -> str:
    """``median (min-max)``."""
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    """Time both commands and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", type=int, default=100, help="tests in the generated project (default 100)")
    parser.add_argument("--repeats", type=int, default=9, help="timed rounds (default 9)")
    parser.add_argument("--database-url", default="sqlite:///:memory:")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-supervisor-") as tmp:
        project = Path(tmp, "project")
        write_project(project, "A", args.tests)
        env = child_env(args.database_url, Path(tmp, "pycache"))
        jobs = commands(project)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in jobs}
        for command in jobs.values():
            run_once(command, env, args.tests)  # warm-up: bytecode cache, page cache
        names = list(jobs)
        for round_number in range(args.repeats):
            order = names if round_number % 2 == 0 else names[::-1]
            for name in order:
                times[name].append(run_once(jobs[name], env, args.tests))
            print(f"round {round_number + 1}: " + ", ".join(
                f"{name} {times[name][-1][0]:.3f} s (CPU {times[name][-1][1]:.3f} s)" for name in names),
                file=sys.stderr, flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"] * 3
    print(f"{args.tests} tests, {args.repeats} rounds, {args.database_url}, load average {' '.join(load)}")
    print("| command | wall, s | CPU, s |")
    print("|---|---|---|")
    for name in names:
        print(f"| {name} | {spread([w for w, _ in times[name]])} | {spread([c for _, c in times[name]])} |")
    walls = [s[0] / d[0] for s, d in zip(times["supervised"], times["direct"])]
    cpus = [s[1] / d[1] for s, d in zip(times["supervised"], times["direct"])]
    print(f"| supervised / direct | {spread(walls)} | {spread(cpus)} |")


if __name__ == "__main__":
    main()
