"""Start the runner again in child processes: suites, parallel workers, reruns, bisect steps.

Every child's command line comes from :func:`child_command` (the options
of the run it is part of, by :data:`OptionPart`); every child is started by
:func:`start_runner` and, when this process waits for it, :func:`wait_for`.
"""

import argparse
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from ..databases.provision import CREATED_ENV
from . import coverage_support
from .journal import JOURNAL_ENV
from .overdue import OverdueWatch
from .signals import ChildProcess, forwarding_to

#: Environment variable telling a parallel worker its number (1..N).
WORKER_ENV = "PROPER_UNITTEST_WORKER"
#: Environment variable asking the library to keep server test databases (``--keepdb``).
KEEPDB_ENV = "PROPER_UNITTEST_KEEPDB"
# How long a child gets to clean up after a signal before it is killed (a
# run must stop within 10 s; a killed worker's databases are dropped after).
STOP_TIMEOUT = 4

# The directory holding the proper_unittest package: children must import it
# whatever their working directory is, even when it is not installed.
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent.parent)


#: The options a child is given, by what they are for: ``select`` which tests
#: are loaded (-k), ``show`` how they are reported (-f, -v/-q, -b), ``choose``
#: which of them run (--shard, --failed), ``order`` (--shuffle, --reverse),
#: ``run`` the rest (--no-rerun-failures, --durations, --parallel, --keepdb).
OptionPart = Literal["select", "show", "choose", "order", "run"]


def runner_options(args: argparse.Namespace, *parts: OptionPart) -> list[str]:
    """Return the options of *args* in *parts* as command-line arguments, always in one order."""
    options: list[str] = []
    if "select" in parts:
        for pattern in args.patterns or ():
            options += ["-k", pattern]
    if "show" in parts:
        options += ["--failfast"] if args.failfast else []
        options += {0: ["--quiet"], 1: [], 2: ["--verbose"]}[args.verbosity]
        options += ["--buffer"] if args.buffer else []
    if "choose" in parts:
        options += [f"--shard={args.shard[0]}/{args.shard[1]}"] if args.shard else []
        options += ["--failed"] if args.failed else []
    if "order" in parts:
        options += [f"--shuffle={args.shuffle}"] if args.shuffle is not None else []
        options += ["--reverse"] if args.reverse else []
    if "run" in parts:
        options += ["--no-rerun-failures"] if args.no_rerun_failures else []
        options += ["--durations", str(args.durations)] if args.durations is not None else []
        options += ["--parallel", str(args.parallel)]
        options += ["--keepdb"] if args.keepdb else []
    return options


def child_command(
    args: argparse.Namespace, labels: Iterable[str], parts: Sequence[OptionPart], extra: Iterable[str] = (),
) -> list[str]:
    """Return the command line that runs the runner again on *labels*, with
    the options of *args* in *parts* and then *extra*.

    The child is started as this run was (``args.command``: ``-m
    proper_unittest`` or a script such as runtests.py); under ``coverage
    run``, it runs under coverage too.
    """
    return [
        *coverage_support.python_command(), *args.command.entry,
        *runner_options(args, *parts), *extra, *labels,
    ]


# The environment when the run started, before any test module was
# imported or any test ran (see remember_starting_environment).
_starting_environ: dict[str, str] | None = None


def remember_starting_environment() -> None:
    """Note the environment as it is now, when the run starts: what
    :func:`child_env_from_start` gives, whatever tests change later."""
    global _starting_environ
    _starting_environ = dict(os.environ)


def child_env_from_start(**extra: str) -> dict[str, str]:
    """Return the environment for a child runner: the one the run started
    with (see :func:`remember_starting_environment`), plus *extra*."""
    return _child_env(_starting_environ if _starting_environ is not None else os.environ, extra)


def child_env(**extra: str) -> dict[str, str]:
    """Return the environment for a child runner: ours, plus *extra*."""
    return _child_env(os.environ, extra)


def _child_env(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    env = dict(base, APP_ENV="test")
    # A child keeps its own journal and list of created databases, or none.
    for private in (JOURNAL_ENV, CREATED_ENV):
        env.pop(private, None)
    env.update(extra)
    paths = [path for path in env.get("PYTHONPATH", "").split(os.pathsep) if path]
    if _PACKAGE_PARENT not in paths:
        env["PYTHONPATH"] = os.pathsep.join([_PACKAGE_PARENT, *paths])
    return env


def start_runner(
    command: Sequence[str], cwd: Path, env: Mapping[str, str],
    output: Path | int | None = None, stdin: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start *command* (see :func:`child_command`) and return the process.

    Its output goes straight to ours (*output* None), is captured, stdout
    and stderr apart (``subprocess.PIPE``), or both are written to the file
    at *output*; *stdin* is passed to ``Popen``.
    """
    if isinstance(output, Path):
        with open(output, "wb") as file:
            return subprocess.Popen(
                command, cwd=cwd, env=env, stdin=stdin, stdout=file, stderr=subprocess.STDOUT,
            )
    return subprocess.Popen(command, cwd=cwd, env=env, stdin=stdin, stdout=output, stderr=output)


def wait_for(process: subprocess.Popen[bytes], overdue: OverdueWatch | None = None) -> int:
    """Wait for *process* to end; return its exit status. With *overdue*
    (a watch of its journal), it is killed if its test runs far past its
    time limit (see overdue.py).

    A SIGTERM or SIGINT received meanwhile is passed on to it, and it is
    waited for (it cleans up) before the signal's exception goes on.
    """
    try:
        with forwarding_to(process):
            if overdue is None:
                return process.wait()
            while True:
                try:
                    return process.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    overdue.check_now_and_then(process.pid)
    finally:
        stop_processes([process])


def stop_processes(processes: Sequence[ChildProcess]) -> None:
    """Reap the given processes: those still running are asked to stop
    (SIGTERM), given time to clean up, then killed."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
