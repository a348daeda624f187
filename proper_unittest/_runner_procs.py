"""Start the runner in child processes: one per suite, or one per parallel worker."""

import os
import subprocess
import sys
from pathlib import Path

#: Environment variable telling a parallel worker its number (1..N).
WORKER_ENV = "PROPER_UNITTEST_WORKER"

# The directory holding the proper_unittest package: children must import it
# whatever their working directory is, even when it is not installed.
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)


def runner_command(labels, options):
    """Return the command line that runs the runner on *labels* with *options*."""
    return [sys.executable, "-m", "proper_unittest", *options, *labels]


def child_env(**extra):
    """Return the environment for a child runner: ours, plus *extra*."""
    env = dict(os.environ, APP_ENV="test", **extra)
    paths = [path for path in env.get("PYTHONPATH", "").split(os.pathsep) if path]
    if _PACKAGE_PARENT not in paths:
        env["PYTHONPATH"] = os.pathsep.join([_PACKAGE_PARENT, *paths])
    return env


def run_streamed(command, cwd, env):
    """Run *command* with its output going straight to ours; return its exit status."""
    with subprocess.Popen(command, cwd=cwd, env=env) as process:
        try:
            return process.wait()
        except KeyboardInterrupt:
            # The child got the same Ctrl-C: let it finish its own clean-up.
            process.wait()
            raise


def start_collected(command, cwd, env, output_path):
    """Start *command* with its stdout and stderr written to *output_path*; return the process."""
    with open(output_path, "wb") as output:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=output, stderr=subprocess.STDOUT,
        )


def stop_processes(processes):
    """Terminate the given processes that are still running, and reap them."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        process.wait()
