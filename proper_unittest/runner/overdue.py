"""Kill a test process whose test runs far past its time limit.

A test's time limit (``--timeout``, a class's ``timeout``) is an alarm
(SIGALRM) inside the test process. The alarm cannot stop a test that
blocks SIGALRM, nor one stuck in a call that never returns to Python (a
regular expression backtracking for hours, a C extension's loop); a plain
``unittest.TestCase`` test has no alarm at all. Such a test would hang the
run, and its report, for good.

So the process that waits for a test process (the supervisor of a serial
run, the controller of a parallel one) reads that process's journal as it
grows (journal.py: each test's start line carries its limit). A test still
running :data:`OVERDUE_FACTOR` times its limit plus :data:`OVERDUE_SECONDS`
after its start line was read is killed with its process (SIGKILL: the
process is deaf to signals, or its test would have stopped); the death is
then reported as that test's, with why (:meth:`OverdueWatch.explain`), and
a parallel run gives the rest of the worker's share to a new worker.
"""
import os
import signal
import time
from pathlib import Path

from .journal import journal_event

#: A test is killed OVERDUE_FACTOR x its limit + OVERDUE_SECONDS after it started.
OVERDUE_FACTOR = 2.0
#: (see OVERDUE_FACTOR): room for the test's set-up and clean-ups.
OVERDUE_SECONDS = 5.0
#: How often the journal is read.
POLL_SECONDS = 0.25
#: How a report says a process the watch killed ended ("worker 2 ...", "the test process ...").
KILLED_OVERDUE = "was killed for running past its test's time limit"


class OverdueWatch:
    """Reads one test process's journal and kills the process when its
    running test is overdue (see the module doc)."""

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self._offset = 0
        self._partial = b""
        # The running test: (id, limit in seconds or None, when its start line was read).
        self._running: tuple[str, float | None, float] | None = None
        self._last_check = 0.0
        #: (test id, its limit, seconds it had run) once the watch killed the process.
        self.killed: tuple[str, float, float] | None = None

    def check(self, pid: int) -> bool:
        """Read what the journal gained; kill `pid` if its test is overdue.
        True once the watch has killed it."""
        if self.killed is not None:
            return True
        now = time.monotonic()
        self._read_new_lines(now)
        if self._running is None:
            return False
        test_id, limit, started = self._running
        if limit is None or now - started < OVERDUE_FACTOR * limit + OVERDUE_SECONDS:
            return False
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return False  # it ended meanwhile: its own report says how
        self.killed = (test_id, limit, now - started)
        return True

    def check_now_and_then(self, pid: int) -> bool:
        """:meth:`check`, at most every POLL_SECONDS (for a caller that loops faster)."""
        now = time.monotonic()
        if now - self._last_check < POLL_SECONDS:
            return self.killed is not None
        self._last_check = now
        return self.check(pid)

    def explain(self) -> str | None:
        """Why the watch killed the process ("... ran past its time limit ..."), or None."""
        if self.killed is None:
            return None
        test_id, limit, ran = self.killed
        return (f"TestTimedOut: {test_id} ran past its time limit of {limit:g} s and the limit's alarm "
                "could not stop it (the test blocks SIGALRM, is stuck in a call that does not return "
                f"to Python, or is not a library test case): its process was killed {ran:.0f} s after "
                "the test started")

    def _read_new_lines(self, now: float) -> None:
        try:
            with open(self.journal, "rb") as file:
                file.seek(self._offset)
                data = file.read()
        except OSError:  # not written yet
            return
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            self._note(line, now)

    def _note(self, line: bytes, now: float) -> None:
        event = journal_event(line)
        if event is None:
            return
        if event.record is None:
            self._running = (event.test_id, event.limit, now)
        elif self._running is not None and event.test_id == self._running[0]:
            self._running = None
