"""Parallel workers forked from the process that loaded the tests.

A worker started as a new interpreter imports Proper, the app and every
test module again before its first test: about as long as a serial run's
whole start-up, paid once per worker while the cores are already busy.
A forked worker starts with all of it loaded, as Django's parallel runner
does. It is only done when nothing would be shared by mistake: no other
thread (its locks would stay held in the child), no open peewee
connection (named by its Database, which says more than its socket or
file would), no other descriptor opened since the runner started that
the children would share (a socket, a file, a pipe: descriptors.py), and
no coverage or tracer (which must see every process start); otherwise the
workers are new interpreters (parallel.py).

A forked worker runs its share, its exit hooks (which drop its test
databases, as any worker's do) and ends with ``os._exit``: it never returns
into the parent's stack, whose clean-up belongs to the parent. Clean-up
the parent registered (``weakref.finalize``, a temporary folder made at
import) stays the parent's.
"""

import atexit
import gc
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from pathlib import Path

from ..databases import guard as _guard
from . import descriptors

# Installed as the runner starts, before the project's app or tests are
# imported: every connection they open is then known to open_connections(),
# and every descriptor they open to descriptors.shared_by_fork().
_guard.install()
descriptors.record_start()


def why_not_fork() -> str | None:
    """Return why workers cannot be forked from this process now, or None."""
    if not hasattr(os, "fork"):
        return "this platform cannot fork"
    if sys.gettrace() is not None or "coverage" in sys.modules:
        return "a tracer or coverage is running"
    others = [thread.name for thread in threading.enumerate() if thread is not threading.current_thread()]
    if others:
        return f"other threads are running ({', '.join(others)})"
    opened = _guard.open_connections()
    if opened:
        return f"database connections are open ({', '.join(opened)})"
    shared = descriptors.shared_by_fork()
    if shared is None:
        return "this platform does not list a process's open descriptors (/proc/self/fd, /dev/fd)"
    if shared:
        return (f"descriptors opened since the runner started would be shared by the workers "
                f"({'; '.join(shared)}): the app or a test module opened them at import; open "
                "them in setUpClass or when first used to let the workers fork")
    return None


class ForkedProcess:
    """A forked child, waited for as a ``subprocess.Popen`` is (the parts the runner uses)."""

    stdin = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit status if it has ended (negative: the signal), else None."""
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for it to end (raise ``subprocess.TimeoutExpired`` after *timeout* s)."""
        if timeout is None:
            if self.returncode is None:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"worker pid {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode  # type: ignore[return-value]  # poll() set it

    def send_signal(self, sig: int) -> None:
        """Send *sig*, unless it has been reaped."""
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        """Send SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """Send SIGKILL."""
        self.send_signal(signal.SIGKILL)


def fork_worker(output_path: Path, body: Callable[[], int], in_child: Callable[[], None]) -> ForkedProcess:
    """Fork a worker whose stdout and stderr go to *output_path*; in it, call
    *in_child* (to take its own files and settings), then *body*, whose
    return value is its exit status."""
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()  # what the tests share with the parent is not copied by the child's collections
    pid = os.fork()
    if pid:
        return ForkedProcess(pid)
    status = 1
    try:
        _leave_parent_state(output_path)
        in_child()
        status = body()
    except BaseException:  # noqa: BLE001 - the child must reach os._exit whatever happens
        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()  # its exit hooks, as a worker started anew would run them
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    raise AssertionError("unreachable")  # pragma: no cover


def _leave_parent_state(output_path: Path) -> None:
    with open(os.devnull, "rb") as devnull:
        os.dup2(devnull.fileno(), 0)
    with open(output_path, "wb") as output:
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
    # The parent's pending clean-up (a temporary folder it made) is not the
    # child's: run at the child's exit, it would go while the parent uses it.
    for finalizer in list(getattr(weakref.finalize, "_registry", ())):
        finalizer.atexit = False
