"""SIGTERM and SIGINT: stop cleanly, in the runner and in its children.

The first SIGTERM or SIGINT raises :class:`Interrupted` (a
``KeyboardInterrupt``, so unittest stops the run instead of recording a test
error) after passing the signal on to the child processes the runner
started.  The process then exits normally, so ``atexit`` hooks run: the
library's hooks drop the test tables and databases and remove SQLite test
files.  Later signals are ignored until the process exits, so clean-up is
not interrupted.
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn, Protocol, TypeVar

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)



class ChildProcess(Protocol):
    """What the runner uses of a child process: a ``subprocess.Popen`` or a forked worker."""

    @property
    def pid(self) -> int: ...  # noqa: D102

    @property
    def returncode(self) -> int | None: ...  # noqa: D102

    def poll(self) -> int | None: ...  # noqa: D102

    def wait(self, timeout: float | None = None) -> int: ...  # noqa: D102

    def send_signal(self, sig: int) -> None: ...  # noqa: D102

    def terminate(self) -> None: ...  # noqa: D102

    def kill(self) -> None: ...  # noqa: D102


Child = TypeVar("Child", bound=ChildProcess)

# The child processes a signal is passed on to.
_children: list[ChildProcess] = []
# True once a signal was received: the process is on its way out.
_stopping = False


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``exit_status`` is 128 + its number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        """The shell convention: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise :class:`Interrupted`.

    Only the main thread can set signal handlers: elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _on_signal) for signum in HANDLED_SIGNALS}
    try:
        yield
    finally:
        # After a signal, later ones stay ignored until the process has
        # exited: a parent stopping its workers must not cut their exit
        # hooks short.
        if not _stopping:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


@contextmanager
def forwarding_to(process: Child) -> Iterator[Child]:
    """Pass the signals this process receives on to *process* while the block runs."""
    _children.append(process)
    try:
        yield process
    finally:
        _children.remove(process)


def forget_children() -> None:
    """In a forked child: the parent's children are not its own to signal."""
    _children.clear()


def _on_signal(signum: int, frame: FrameType | None) -> NoReturn:
    global _stopping
    _stopping = True
    for other in HANDLED_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    for process in list(_children):
        if process.poll() is None:
            try:
                process.send_signal(signum)
            except OSError:  # it has just exited
                pass
    raise Interrupted(signum)
