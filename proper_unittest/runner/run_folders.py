"""The run's temporary folder, and what runs that are gone left in theirs.

The command the user typed (the supervisor) makes one folder for the run's
files (journals, the notes of created databases, worker output) and holds
an ``flock`` on its ``run.lock`` for as long as it or the run lives. A
run killed with SIGKILL cannot remove its folder; the next run does: a
folder whose lock nobody holds belongs to a run that is gone, so the
databases noted in it are dropped (only those that still say the library
created them and that no live run holds, see ``databases.provision``) and the
folder is removed.
"""

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

from ..databases import provision as _provision
from . import descriptors
from .problems import info

PREFIX = "proper_unittest-"
_LOCK = "run.lock"


def make_run_folder() -> str:
    """Make the run's folder and lock it: the lock is held (through a
    descriptor a forked child inherits) until the processes holding it end."""
    folder = tempfile.mkdtemp(prefix=PREFIX)
    lock = os.open(Path(folder, _LOCK), os.O_WRONLY | os.O_CREAT, 0o600)  # never closed: the run's life
    fcntl.flock(lock, fcntl.LOCK_EX)
    descriptors.own(lock)  # forked workers hold it too, as they should
    return folder


def remove_gone_runs_folders() -> None:
    """Remove the folders of runs that are gone (see the module doc), with
    the databases they noted as created."""
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(PREFIX) and entry.is_dir(follow_symlinks=False):
            _remove_if_gone(Path(entry.path))


def _remove_if_gone(folder: Path) -> None:
    try:
        lock = open(folder / _LOCK, "rb")  # noqa: SIM115 - closed below
    except OSError:  # not a run folder (or not one of this version): left alone
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # its run is alive
            return
        dropped = []
        for notes in sorted(folder.rglob("*created.jsonl")):
            dropped += _provision.noted_created_databases(notes)
            _provision.drop_created_databases(notes)
        shutil.rmtree(folder, ignore_errors=True)
    if dropped:
        info(f"proper_unittest: a test run that is gone (killed) left its temporary folder and the "
             f"test database(s) it had created, {', '.join(map(repr, dropped))}: removed the folder "
             "and dropped those no other run uses.")
