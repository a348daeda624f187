"""Start the runner in child processes: one per suite, or one per parallel worker."""

import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._provision import CREATED_ENV
from . import coverage_support
from .journal import JOURNAL_ENV
from .signals import forwarding_to

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


def runner_command(labels: Iterable[str], options: Iterable[str]) -> list[str]:
    """Return the command line that runs the runner on *labels* with *options*.

    Under ``coverage run``, the child runs under coverage too.
    """
    return [*coverage_support.python_command(), "-m", "proper_unittest", *options, *labels]


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


def run_streamed(command: Sequence[str], cwd: Path, env: Mapping[str, str], **popen_options: Any) -> int:
    """Run *command* with its output going straight to ours; return its exit status.

    A SIGTERM or SIGINT received meanwhile is passed on to it, and it is
    waited for (it cleans up) before the signal's exception goes on.
    """
    with subprocess.Popen(command, cwd=cwd, env=env, **popen_options) as process:
        try:
            with forwarding_to(process):
                return process.wait()
        finally:
            stop_processes([process])


def start_collected(
    command: Sequence[str], cwd: Path, env: Mapping[str, str], output_path: Path
) -> subprocess.Popen[bytes]:
    """Start *command* with its stdout and stderr written to *output_path*; return the process."""
    with open(output_path, "wb") as output:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=output, stderr=subprocess.STDOUT,
        )


def run_collected(command: Sequence[str], cwd: Path, env: Mapping[str, str], output_path: Path) -> int:
    """Run *command* with its output written to *output_path*; return its exit status.

    Signals are passed on and the child is waited for, as in :func:`run_streamed`.
    """
    process = start_collected(command, cwd, env, output_path)
    try:
        with forwarding_to(process):
            return process.wait()
    finally:
        stop_processes([process])


def stop_processes(processes: Sequence[subprocess.Popen[bytes] | subprocess.Popen[str]]) -> None:
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
