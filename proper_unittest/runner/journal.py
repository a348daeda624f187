"""What a test process has done so far, written as it goes, for the process
that started it to read if it dies.

A process running tests with ``PROPER_UNITTEST_JOURNAL=PATH`` in its
environment appends one JSON line to PATH with the ids of the tests it
will run (``{"plan": [ids]}``), one when a test starts
(``{"start": id}``) and one when it ends (``{"done": record}``, see
records.py). If the process dies (``os._exit``, a segfault, SIGKILL), the
last test started and not done is the one it died in, the done records
are kept, and the tests of its share never started are known.
"""

import json
import math
import os
import signal
from collections.abc import Mapping
from typing import Any, NamedTuple, cast

from ..databases.provision import CREATED_ENV, note_created_in

#: Environment variable naming the journal file of a test process.
JOURNAL_ENV = "PROPER_UNITTEST_JOURNAL"


# The journal file of this process (empty: none).
_journal_path: list[str] = []


def keep_journal_in(path: str | os.PathLike[str] | None) -> None:
    """Have the tests this process runs from now on noted in the file at
    *path* (None: nowhere)."""
    _journal_path[:] = [str(path)] if path else []


def take_private_settings() -> None:
    """Read the journal and created-databases files the parent gave this
    process, and take them out of the environment, so that the processes
    its tests start do not write into them."""
    keep_journal_in(os.environ.pop(JOURNAL_ENV, None))
    note_created_in(os.environ.pop(CREATED_ENV, None))


class Journal:
    """Appends the lines of this process's journal (see keep_journal_in), if it keeps one."""

    def __init__(self) -> None:
        self._path = _journal_path[0] if _journal_path else None
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None

    @property
    def keeps(self) -> bool:
        """True when this process keeps a journal."""
        return self._path is not None

    def started(self, test_id: str, limit: float | None = None) -> None:
        """Note that the test *test_id* has started, with its time limit
        in seconds, if it has one (read by the process that waits for this
        one: see overdue.py)."""
        if self._path is not None:
            # The line json.dumps({"start": test_id[, "limit": limit]}) makes,
            # without the dict and the encoder set-up (one line before every test).
            limit_part = f', "limit": {limit!r}' if limit else ""
            self._write_line('{"start": ' + json.dumps(test_id) + limit_part + "}\n")

    def planned(self, test_ids: list[str]) -> None:
        """Note the tests the run will start, in order (those never started
        are then known if the process dies)."""
        if self._path is not None:
            self._write_line(json.dumps({"plan": test_ids}) + "\n")

    def done(self, record: Mapping[str, Any]) -> None:
        """Note a test's (or a fixture's) finished record."""
        if self._path is not None:
            self._write_line(done_line(record))

    def _write_line(self, line: str) -> None:
        # One write() per line on a descriptor kept open: the line is in the
        # kernel's hands at once, so it is there however the process ends.
        # (Opening the file for each line took 51 ms for the 6000 lines of a
        # 3000-test run; this, 22 ms.)
        os.write(self._descriptor(), line.encode())

    def _descriptor(self) -> int:
        """The journal's descriptor, opened again if a test closed it (or
        its number now names another file)."""
        assert self._path is not None
        if self._fd is not None:
            try:
                found = os.fstat(self._fd)
                if (found.st_dev, found.st_ino) == self._identity:
                    return self._fd
            except OSError:
                pass
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        found = os.fstat(self._fd)
        self._identity = (found.st_dev, found.st_ino)
        return self._fd


def done_line(record: Mapping[str, Any]) -> str:
    """The journal line of a finished `record`: ``json.dumps({"done":
    record})`` and a newline. A record of only text and finite floats (every
    passing test's) is written by hand: json.dumps spends more setting up
    its encoder than encoding such a record."""
    parts = []
    for key, value in record.items():
        kind = type(value)
        if kind is str:
            parts.append(f"{_quote(key)}: {_quote(value)}")
        elif kind is float and math.isfinite(value):  # its repr is its JSON
            parts.append(f"{_quote(key)}: {value!r}")
        else:
            return json.dumps({"done": dict(record)}) + "\n"
    return '{"done": {' + ", ".join(parts) + "}}\n"


# json.dumps's own quoting of a string (ASCII only, as json.dumps writes).
_quote = json.encoder.encode_basestring_ascii


def read_journal(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], str | None]:
    """Return ``(records of the finished tests, id of the test running when
    it stopped or None)`` from the journal at *path* (missing: nothing)."""
    records: dict[tuple[str, bool], dict[str, Any]] = {}
    current: str | None = None
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            lines = file.read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        event = journal_event(line)
        if event is None:
            continue
        if event.record is None:
            current = event.test_id
        else:
            records[(event.test_id, bool(event.record.get("fixture")))] = event.record
            if event.test_id == current:
                current = None
    return list(records.values()), current


class JournalEvent(NamedTuple):
    """A test's start or end, as a journal line notes it."""

    test_id: str
    #: The finished test's record; None for a start.
    record: dict[str, Any] | None
    #: A start's time limit in seconds (None: none, or an end).
    limit: float | None


def journal_event(line: str | bytes) -> JournalEvent | None:
    """The start or end of a test that a journal line notes; None for any
    other line (the plan, a line cut short by a death, one a test wrote)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("start"), str):
        limit = entry.get("limit")
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit > 0:
            limit = None
        return JournalEvent(entry["start"], None, limit)
    done = entry.get("done")
    if not _is_record(done):
        return None
    record = cast(dict[str, Any], done)
    return JournalEvent(record["id"], record, None)


def read_plan(path: str | os.PathLike[str]) -> list[str]:
    """The ids of the tests the process planned to run (see Journal.planned;
    [] when it noted none)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            first = file.readline()
        entry = json.loads(first)
    except (OSError, ValueError):
        return []
    plan = entry.get("plan") if isinstance(entry, dict) else None
    return [item for item in plan if isinstance(item, str)] if isinstance(plan, list) else []


# What every record has (see records.py), with its type: a line without
# them was not written by the library (a test wrote into the journal).
_RECORD_FIELDS = {"id": str, "classname": str, "name": str, "outcome": str}


def _is_record(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(value.get(key), kind) for key, kind in _RECORD_FIELDS.items()
    )


def describe_exit(status: int) -> str:
    """How a process ended, from its exit *status* (``Popen.returncode``:
    negative for a signal)."""
    if status < 0:
        try:
            return f"was killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"was killed by signal {-status}"
    return f"exited with status {status}"


def lost_record(test_id: str, outcome: str, message: str) -> dict[str, Any]:
    """A record for a test that died with its process ("error") or never
    ran because of it ("not_run")."""
    classname, _, name = test_id.rpartition(".")
    return {
        "id": test_id, "classname": classname, "name": name, "outcome": outcome,
        "time": 0.0, "wall": 0.0, "message": message, "detail": message,
    }
