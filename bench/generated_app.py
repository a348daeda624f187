#!/usr/bin/env python
"""Benchmark on a real generated suite: a Proper app with the auth addon and
a resource, its generated pytest suite against the same tests as
ProperTestCase classes under ``python -m proper_unittest``.

At bench time, in a temporary folder:

1. A new project: ``bench/generated_app/skeleton`` (what a new Proper
   project has before any addon: the app package, its config, base model,
   base controller, base email, layouts, ``tests/__init__.py`` and the
   generated ``tests/conftest.py``). Proper 0.26 ships no new-project
   blueprint (``proper_new`` fetches it from a git repository at run time),
   so this one is written here; everything after it is Proper's own output.
2. ``proper install auth`` and ``proper g resource Post title:str body:text``,
   run as the project's ``proper`` command (``app.CLI()``), which write the
   auth addon (models, controllers, forms, views, config with argon2 at its
   production cost), the resource, and their pytest tests, and append the
   ``sign_in_as``/``signed_client`` fixtures to the conftest. The
   dependency install the addon runs (``pip install ...``) is replaced by a
   no-op: this environment already has the packages.
3. A copy of that project whose ``tests/`` is the port
   (``bench/generated_app/tests``: one ProperTestCase class per generated
   module, one method per generated test, the same requests and checks)
   plus ``setup.cfg`` naming the app. The script checks that every
   generated test has its port, and stops if not.

Then it times whole processes, each command once untimed (warm-up, fills
a private bytecode cache), then ``--repeats`` rounds, the commands
alternating (each round starts one command further along):

  pytest            ``python -m pytest -q -p no:cacheprovider -p no:proper_unittest``
                    on the generated suite (the library's pytest plugin
                    left out: a project without the library)
  ProperTestCase    ``python -m proper_unittest`` on the port
  ProperTestCase,   the same with PROPER_UNITTEST_FAST_PASSWORD_HASHING=0:
   app's hash cost  what is left without the minimum-cost hashing

Every run must exit 0 and pass every test. Reported: each command's wall
and CPU time (user + system of the process and its children), medians and
ranges over the rounds, and per round the ratio to the pytest run of that
round; the machine's load average before and after.

    .venv/bin/python bench/generated_app.py [--repeats 5] [--keep]
"""
import argparse
import ast
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (  # noqa: E402  (the styles bench's helpers)
    RESULTS_DIR,
    BrokenRun,
    environment_info,
    format_range,
    progress,
    spread,
    timed_run,
)

HERE = Path(__file__).resolve().parent / "generated_app"
SKELETON = HERE / "skeleton"
PORT = HERE / "tests"
APP_NAME = "blog"
GENERATE = (
    ("install", "auth"),
    ("g", "resource", "Post", "title:str", "body:text"),
)
PYTEST = "pytest"
UNITTEST = "unittest"
UNITTEST_APP_COST = "unittest-app-cost"
NAMES = {
    PYTEST: "pytest, generated conftest",
    UNITTEST: "ProperTestCase, python -m proper_unittest",
    UNITTEST_APP_COST: "  the same, app's hash cost",
}

PROPER_COMMAND = """\
#!{python}
# The project's `proper` command: the app's command line (proper_cli).
import sys
sys.path.insert(0, {project!r})
from {app}.main import app
app.CLI()()
"""

NO_PIP = """\
#!/bin/sh
echo "bench: not running 'pip $*': this environment has the packages"
"""


class GenerationError(Exception):
    """Proper's generators failed, or the port does not match their tests."""


def generate_project(tmp):
    """The generated project (pytest suite) in `tmp`/pytest; returns its path."""
    project = tmp / "pytest"
    shutil.copytree(SKELETON, project)
    (project / "db").mkdir()  # where `proper db create` writes migrations
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    (bin_dir / "proper").write_text(
        PROPER_COMMAND.format(python=sys.executable, project=str(project), app=APP_NAME))
    (bin_dir / "pip").write_text(NO_PIP)
    for script in bin_dir.iterdir():
        script.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("APP_ENV", None)  # the generators run in the development environment
    for command in GENERATE:
        completed = subprocess.run(["proper", *command], cwd=project, env=env,
                                   capture_output=True, text=True)
        output = completed.stdout + completed.stderr
        if completed.returncode != 0 or "Traceback" in output:
            raise GenerationError(f"`proper {' '.join(command)}` failed:\n{output}")
    return project


def generated_tests(project):
    """{module name: [test function names]} of the generated pytest suite."""
    tests = {}
    for path in sorted((project / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text())
        tests[path.stem] = [node.name for node in tree.body
                            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    return tests


def ported_tests():
    """{module name: [test method names]} of the port."""
    tests = {}
    for path in sorted(PORT.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        tests[path.stem] = [item.name for node in tree.body if isinstance(node, ast.ClassDef)
                            for item in node.body
                            if isinstance(item, ast.FunctionDef) and item.name.startswith("test_")]
    return tests


def check_port(generated, ported):
    """Stop unless the port has exactly the generated tests, module by module."""
    problems = []
    for module in sorted(set(generated) | set(ported)):
        missing = sorted(set(generated.get(module, [])) - set(ported.get(module, [])))
        extra = sorted(set(ported.get(module, [])) - set(generated.get(module, [])))
        if missing:
            problems.append(f"{module}: generated but not ported: {', '.join(missing)}")
        if extra:
            problems.append(f"{module}: ported but not generated: {', '.join(extra)}")
    if problems:
        raise GenerationError("the port in bench/generated_app/tests does not match what Proper "
                              "generated (update the port):\n  " + "\n  ".join(problems))


def port_project(tmp, generated_project):
    """A copy of the generated project with the port as its tests/."""
    project = tmp / "unittest"
    shutil.copytree(generated_project, project, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    shutil.copytree(PORT, project / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "setup.cfg").write_text(f"[proper_unittest]\napp = {APP_NAME}.main:app\n")
    return project


def commands(pytest_project, unittest_project):
    """{name: (argv, cwd, extra environment)}."""
    pytest_argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:proper_unittest"]
    unittest_argv = [sys.executable, "-m", "proper_unittest"]
    return {
        PYTEST: (pytest_argv, pytest_project, {}),
        UNITTEST: (unittest_argv, unittest_project, {}),
        UNITTEST_APP_COST: (unittest_argv, unittest_project, {"PROPER_UNITTEST_FAST_PASSWORD_HASHING": "0"}),
    }


def count_passed(output):
    """N from pytest's "N passed" or the runner's "N passed, 0 failed";
    None if anything failed, errored or was skipped."""
    if re.search(r"\b[1-9]\d* (failed|error|errors|skipped)\b", output):
        return None
    matches = re.findall(r"(\d+) passed", output)
    return int(matches[-1]) if matches else None


def run_once(name, command, base_env, expected):
    """Run one command; return (wall s, CPU s). Raise BrokenRun."""
    argv, cwd, extra = command
    completed, wall, cpu = timed_run(argv, cwd, {**base_env, **extra})
    output = completed.stdout + completed.stderr
    passed = count_passed(output)
    if completed.returncode != 0 or passed != expected:
        log = RESULTS_DIR / f"failed-generated-{name}.log"
        log.write_text(f"$ (cd {cwd} && {' '.join(argv)})\nexit status {completed.returncode}\n\n{output}")
        raise BrokenRun(f"{name}: exit status {completed.returncode}, passed {passed} "
                        f"(expected {expected}); output in {log}\n" + "\n".join(output.splitlines()[-15:]))
    return wall, cpu


def summarize(times):
    """Per command: wall and CPU medians and ranges; per round, the ratio to
    the pytest run of that round."""
    summary = {}
    for name, runs in times.items():
        row = summary[name] = {}
        for clock in ("wall", "cpu"):
            values = [run[clock] for run in runs]
            base = [run[clock] for run in times[PYTEST]]
            row[clock] = spread(values)
            row[f"{clock}_vs_pytest"] = spread([v / b for v, b in zip(values, base)])
    return summary


def format_table(summary, tests, repeats, loads):
    """The table, as printed."""
    lines = [
        f"Generated app ({APP_NAME}: auth addon + Post resource), {tests} tests, whole process, "
        f"{repeats} rounds: median (range); x pytest = per-round ratio to the pytest run",
        f"load average (1 min) before {loads[0]:.2f}, after {loads[1]:.2f}, on {os.cpu_count()} CPUs",
        "",
        f"{'command':<44} {'wall s':>20} {'x pytest, wall':>20} {'CPU s':>20} {'x pytest, CPU':>20}",
    ]
    for name, row in summary.items():
        lines.append(
            f"{NAMES[name]:<44} {format_range(row['wall']):>20} {format_range(row['wall_vs_pytest']):>20} "
            f"{format_range(row['cpu']):>20} {format_range(row['cpu_vs_pytest']):>20}")
    return "\n".join(lines)


def parse_args(argv=None):
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the generated projects (path printed)")
    return parser.parse_args(argv)


def main(argv=None):
    """Generate, check the port, time, print and save."""
    args = parse_args(argv)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="proper-bench-generated-"))
    try:
        progress("generating the app with Proper's generators")
        pytest_project = generate_project(tmp)
        generated = generated_tests(pytest_project)
        check_port(generated, ported_tests())
        expected = sum(len(names) for names in generated.values())
        unittest_project = port_project(tmp, pytest_project)
        jobs = commands(pytest_project, unittest_project)
        env = dict(os.environ, APP_ENV="test", PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
        for name in ("PYTHONDONTWRITEBYTECODE", "PROPER_UNITTEST_WORKER", "PYTEST_ADDOPTS",
                     "PROPER_UNITTEST_FAST_PASSWORD_HASHING"):
            env.pop(name, None)
        for name, command in jobs.items():
            progress(f"warm-up {name}")
            run_once(name, command, env, expected)
        loads = [os.getloadavg()[0]]
        times = {name: [] for name in jobs}
        order = list(jobs)
        for round_number in range(args.repeats):
            shift = round_number % len(order)
            for name in order[shift:] + order[:shift]:
                wall, cpu = run_once(name, jobs[name], env, expected)
                times[name].append({"wall": wall, "cpu": cpu})
                progress(f"round {round_number + 1}/{args.repeats} {name}: {wall:.2f} s (CPU {cpu:.2f} s)")
        loads.append(os.getloadavg()[0])
    except (GenerationError, BrokenRun) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            progress(f"generated projects kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    summary = summarize(times)
    print(format_table(summary, expected, args.repeats, loads))
    data = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "tests": expected,
        "generated_tests": generated,
        "repeats": args.repeats,
        "load_average_1min": {"before": loads[0], "after": loads[1]},
        "commands": {name: {"argv": argv, "env": extra} for name, (argv, _, extra) in jobs.items()},
        "runs": times,
        "summary": summary,
        "environment": environment_info(),
    }
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS_DIR / f"{stamp}-generated-app.json").write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
