"""Keep the run's report out of reach of its tests.

The command the user typed forks once, before any test module or app is
imported: the child does the whole run; this process (the supervisor)
only waits. If the child ends without saying it has reported (a test
called ``os._exit()``, segfaulted, or the child was killed), the
supervisor names the test it died in (from the child's journal, see
journal.py), writes the summary line and the JUnit XML, drops the test
databases the child had created, and exits non-zero: a run never exits 0
on a report it did not make.

Processes the tests left behind (a test's fork that goes on, a daemon,
the workers of a parallel run whose controller a test killed) are
re-parented to the supervisor (Linux's child subreaper): once the child
has ended, they are ended too (SIGTERM, SIGKILL after a grace period) and
named, so none of them can hold the run's output open, write into its
report or keep a test database.

A test that runs far past its time limit and that its alarm could not
stop (overdue.py) is killed with the child, and reported as such.

On SIGTERM/SIGINT the supervisor passes the signal on and cancels the
child's queries on PostgreSQL (a test blocked in a database call sees the
signal only once the call returns); a child still running
:data:`KILL_AFTER_SECONDS` later is killed, its databases dropped (which
also ends its sessions on the server), and the exit status is 143/130.
"""

import ctypes
import gc
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from ..databases import provision as _provision
from . import descriptors
from .journal import describe_exit, keep_journal_in, lost_record, read_journal, read_plan
from .junit import write_junit_xml
from .overdue import KILLED_OVERDUE, POLL_SECONDS, OverdueWatch
from .problems import info
from .results import Counts
from .run_folders import make_run_folder, remove_gone_runs_folders

#: How long the child gets to stop on a signal before it is killed.
KILL_AFTER_SECONDS = 6.0
#: How long processes the tests left get to end on SIGTERM (dropping their
#: test databases) before they are killed.
LEFT_PROCESSES_GRACE = 3.0
# prctl(2) option: orphaned descendants are re-parented to this process.
_PR_SET_CHILD_SUBREAPER = 36
_DONE = b"reported"
_STOPPED = b"stopped"


# The supervisor's folder, in the supervised child (empty elsewhere).
_folder: list[str] = []
# The write end of the pipe the supervised child says "reported" on.
_report_pipe: list[int] = []
# [0] once the child's run must be reported by the supervisor, [0, N] when
# the signal N stopped it.
_unreported: list[int] = []


def run_folder() -> str | None:
    """The folder for the run's temporary files: the supervisor's, which it
    removes however the run ends (None, the system's, when unsupervised)."""
    return _folder[0] if _folder else None


def leave_report_to_supervisor(stopped_by: int | None = None) -> None:
    """In the supervised child: do not say "reported" when the run ends, so
    that the supervisor reports it from the journal (naming the running
    test, the tests never reached): as a death for a run cut short by
    something that is not a signal (a KeyboardInterrupt a test raised), as
    a stop for one the signal `stopped_by` stopped."""
    _unreported[:] = [0] if stopped_by is None else [0, stopped_by]


def leave_supervision() -> None:
    """In a process forked from the supervised child: close the pipe only
    that child may say "reported" on (the supervisor reads it when the child
    has ended; a worker holding it open would keep it waiting)."""
    for fd in _report_pipe:
        os.close(fd)
    _report_pipe.clear()


def supervised(run: Callable[[], int], junitxml: str | None) -> int:
    """Return ``run()``'s exit status, *run* being called in a forked child
    (see the module docstring); *junitxml* is where a dead child's report
    goes. Runs *run* in this process when it cannot fork or under coverage.
    The supervising process ends here with that status (``os._exit``)."""
    if not hasattr(os, "fork") or sys.gettrace() is not None or "coverage" in sys.modules:
        return run()
    remove_gone_runs_folders()
    tmp = make_run_folder()
    journal, created = Path(tmp, "journal.jsonl"), Path(tmp, "created.jsonl")
    reader, writer = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    # What is imported by now (the runner, Proper, the library) lives as
    # long as the run: out of the collector's sight, the child's collections
    # no longer walk it, nor write into (and so copy) every page of it it
    # shares with this process. Without it the fork cost a 100-test run
    # 6 % of its time; with it the run is faster than without the fork
    # (bench/supervisor_cost.py).
    gc.freeze()
    adopts_orphans = _become_subreaper()
    pid = os.fork()
    if pid == 0:  # the child: does the run, says when it has reported
        os.close(reader)
        _folder[:] = [tmp]
        _report_pipe[:] = [writer]
        descriptors.own(writer)  # a forked worker closes it (leave_supervision)
        keep_journal_in(journal)
        _provision.note_created_in(created)
        status = run()
        if _unreported:
            if len(_unreported) > 1:  # stopped by a signal: the supervisor reports the stop
                _say(writer, _STOPPED + b" %d %d" % (os.getpid(), _unreported[1]))
            return status
        # Signed with this process's id: a process a test forked that goes
        # on with the run cannot speak for it.
        _say(writer, _done_by(os.getpid()))
        os.close(writer)
        _report_pipe.clear()
        return status
    os.close(writer)
    try:
        status = _supervise(pid, reader, journal, created, junitxml)
        if adopts_orphans:
            _end_left_processes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # The supervisor imported no test or app and holds nothing: its own
    # interpreter teardown is all that is left, and it costs every serial
    # run about 0.2 s (measured), so it is skipped.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _supervise(pid: int, reader: int, journal: Path, created: Path, junitxml: str | None) -> int:
    received: list[int] = []
    killed: list[bool] = []

    def kill() -> None:
        killed.append(True)
        _kill(pid)

    killer = threading.Timer(KILL_AFTER_SECONDS, kill)
    killer.daemon = True

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not received:
            received.append(signum)
            _send(pid, signum)
            killer.start()
            # A test blocked in a query sees the signal once the query ends.
            _provision.cancel_noted_queries(created)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    overdue, ended = OverdueWatch(journal), threading.Event()

    def watch() -> None:
        while not ended.wait(POLL_SECONDS) and not overdue.check(pid):
            pass

    watcher = threading.Thread(target=watch, name="proper_unittest-overdue", daemon=True)
    watcher.start()
    try:
        _, wait_status = os.waitpid(pid, 0)
        # The child said it before it ended, or never will: a process a
        # test forked may still hold the pipe open, so never wait on it.
        os.set_blocking(reader, False)
        try:
            said = os.read(reader, 64)
        except BlockingIOError:
            said = b""
    finally:
        ended.set()
        killer.cancel()
        os.close(reader)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    status = os.waitstatus_to_exitcode(wait_status)
    if said == _done_by(pid):
        return 128 + received[0] if received and status < 0 else status
    _provision.drop_created_databases(created)
    stopped_by = _stopped_by(said, pid) or (received[0] if received else None)
    if stopped_by is not None:
        name = signal.Signals(stopped_by).name
        if killed:
            info(f"\nStopped ({name}): the run was killed {KILL_AFTER_SECONDS:g} s after it, its test "
                 "databases dropped.")
        if read_plan(journal):  # a run of its own tests (not a parallel run's controller): report what ran
            _report_stop(name, journal, junitxml)
        return 128 + stopped_by
    watcher.join()
    _report_death(status, journal, junitxml, overdue.explain())
    return 1


def _become_subreaper() -> bool:
    """Linux: have the processes the child leaves orphaned re-parented to
    this one (not inherited by the child). False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _children() -> list[int]:
    """This process's children (the child's orphans, once it has ended)."""
    found: list[int] = []
    for path in Path("/proc/self/task").glob("*/children"):
        try:
            found += [int(pid) for pid in path.read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def _end_left_processes() -> None:
    """End (SIGTERM, then SIGKILL after LEFT_PROCESSES_GRACE) and reap the
    processes the tests left running, and name them."""
    left = _still_running(_children(), seconds=1.0)  # a browser's driver ends on its own, soon after
    if not left:
        return
    for pid in left:
        _send(pid, signal.SIGTERM)
    for pid in _still_running(left, LEFT_PROCESSES_GRACE):
        _send(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    listed = ", ".join(str(pid) for pid in left)
    info(f"proper_unittest: the tests left {len(left)} process(es) running after the run ended "
         f"(pid {listed}): ended.")


def _still_running(pids: list[int], seconds: float) -> list[int]:
    """Those of `pids` (children of this process) that have not ended
    within `seconds`; the others are reaped."""
    waiting = set(pids)
    deadline = time.monotonic() + seconds
    while waiting:
        for pid in list(waiting):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                waiting.discard(pid)
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    return [pid for pid in pids if pid in waiting]


def _done_by(pid: int) -> bytes:
    """What the child with process id `pid` writes once it has reported."""
    return _DONE + b" %d" % pid


def _stopped_by(said: bytes, pid: int) -> int | None:
    """The signal the child `pid` said stopped it (see leave_report_to_supervisor), if it said so."""
    parts = said.split()
    if len(parts) == 3 and parts[0] == _STOPPED and parts[1] == b"%d" % pid and parts[2].isdigit():
        signum = int(parts[2])
        return signum if signum in (signal.SIGINT, signal.SIGTERM) else None
    return None


def _say(writer: int, message: bytes) -> None:
    try:
        os.write(writer, message)
    except BrokenPipeError:  # a test's fork that went on: the supervisor is not listening to it
        pass


def _report_death(status: int, journal: Path, junitxml: str | None, overdue: str | None = None) -> None:
    """Report the run of a child that died (`overdue`: why the overdue
    watch killed it, if it did) from its journal."""
    how = KILLED_OVERDUE if overdue else describe_exit(status)

    def message(current: str | None) -> str:
        where = f"while running {current}" if current else "outside any test"
        return overdue or f"TestProcessDied: the test process {how} {where}, before the run reported"

    counts, current = _journal_counts(journal, message, f"NotRun: the test process {how} before it")
    if not current:
        counts.crashed += 1
    info(f"\n{message(current)}.")
    _write_report(counts, junitxml)


def _report_stop(signal_name: str, journal: Path, junitxml: str | None) -> None:
    """Report a run stopped by `signal_name` from its journal."""
    counts, _ = _journal_counts(
        journal, lambda current: f"Interrupted: the run was stopped ({signal_name}) while this test ran",
        f"NotRun: the run was stopped ({signal_name}) before it",
    )
    _write_report(counts, junitxml)


def _journal_counts(
    journal: Path, running_error: Callable[[str], str], not_run: str,
) -> tuple[Counts, str | None]:
    """The counts of a run its child did not report, from the child's
    journal: the finished tests' records, the test it was in as an error
    (`running_error` of its id), the planned tests it never reached as
    not run (`not_run`); and the id of the test it was in (None: none)."""
    records, current = read_journal(journal)
    if current:
        records.append(lost_record(current, "error", running_error(current)))
    reached = {record["id"] for record in records} | {record["classname"] for record in records}
    records += [
        lost_record(test_id, "not_run", not_run)
        for test_id in read_plan(journal) if test_id not in reached
    ]
    return Counts.from_records(records), current


def _write_report(counts: Counts, junitxml: str | None) -> None:
    if junitxml:
        write_junit_xml(junitxml, counts.records, 0.0)
    print(counts.summary_line(), flush=True)


def _send(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _kill(pid: int) -> None:
    _send(pid, signal.SIGKILL)
