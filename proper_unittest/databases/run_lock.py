"""One test run per database: the run lock, and what a run that is gone left.

A process that claims a server test database takes a lock on it (a
PostgreSQL advisory lock, a MySQL/MariaDB ``GET_LOCK``) on a connection of
its own, opened for that and nothing else, and keeps it until the process
ends: whatever the tests do to their own connections (close them, lose
them, reconnect), the lock stays, whether the process runs under the
runner, ``python -m unittest`` or pytest. That connection is always idle,
so when the process dies, even by SIGKILL, the server sees it close at
once and the lock goes with it. A SQLite file is locked with ``flock``
on a file object kept open, which the kernel releases the same way.

What a killed run can leave is its other sessions, still running a query
(``pg_sleep``, a long statement) that would block the next run's DDL. The
run's PostgreSQL sessions are named after their process
(``proper_unittest pid=N host=H``); MySQL/MariaDB sessions are known by
their client's address. A session on the database whose process is known
to be gone (on this machine) is ended, saying so, when the next run takes
the lock; a lock still held by such a session is taken over the same way.
"""
import fcntl
import os
import socket
import sys
import time
from pathlib import Path
from typing import BinaryIO

import peewee as pw

from proper_unittest.databases import guard, names, safety
from proper_unittest.errors import UnsafeDatabaseError

#: How a test run names its PostgreSQL sessions: the lock holder is known by it.
SESSION_TAG = "proper_unittest pid={pid} host={host}"

# Physical key of each server database this process holds the lock of -> the lock's connection.
_held: dict[tuple[object, ...], pw.Database] = {}
# SQLite files locked by hold(), open until the process ends.
_held_files: dict[tuple[object, ...], BinaryIO] = {}


def name_session(db: pw.Database) -> None:
    """Name `db`'s PostgreSQL sessions after this process, unless the app names them."""
    if safety.backend_of(db) == "postgres" and "application_name" not in db.connect_params:
        tag = SESSION_TAG.format(pid=os.getpid(), host=socket.gethostname())
        db.connect_params["application_name"] = tag[:63]


def hold(db: pw.Database, connection: pw.Database | None) -> None:
    """Take the run lock of `db` for the rest of this process, and refuse
    (UnsafeDatabaseError, nothing touched) a database another live run
    holds. *connection* is a new, closed connection to the same server
    database (None for SQLite): the lock is kept on it."""
    key = guard.physical_key(db)
    if key in _held or key in _held_files:
        return
    if isinstance(db, pw.SqliteDatabase):
        file = open(safety.sqlite_path(db), "rb")  # noqa: SIM115 - held until the process ends
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            raise UnsafeDatabaseError(in_use_message(Path(safety.sqlite_path(db)).name)) from None
        _held_files[key] = file
        return
    if connection is None or safety.backend_of(db) not in ("postgres", "mysql"):
        return
    name = safety.target_name(db)
    with guard.provisioning():
        connection.connect()
    try:
        if not try_lock(connection, name):
            raise UnsafeDatabaseError(in_use_message(name, holder(connection, name)))
        end_gone_sessions(connection, name)
    except BaseException:
        connection.close()
        raise
    _held[key] = connection


def holds(db: pw.Database) -> bool:
    """Whether this process holds the run lock of `db`."""
    key = guard.physical_key(db)
    return key in _held or key in _held_files


def let_go(db: pw.Database) -> None:
    """Release the run lock of `db` (before dropping it, or after a refusal)."""
    key = guard.physical_key(db)
    connection = _held.pop(key, None)
    if connection is not None:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a connection the server already ended
            pass
    file = _held_files.pop(key, None)
    if file is not None:
        file.close()


def let_go_of_all() -> None:
    """Release every run lock this process holds (at exit)."""
    for connection in list(_held.values()):
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a connection the server already ended
            pass
    _held.clear()
    while _held_files:
        _held_files.popitem()[1].close()


def try_lock(db: pw.Database, database: str) -> bool:
    """Take the run lock of server database *database* on connection *db*.
    A lock held by a run that is gone (see the module doc) is taken over,
    saying so; one whose session is ending (its process was just killed,
    or its session just ended) is waited for, a few seconds at most."""
    ended: set[int] = set()
    deadline = time.monotonic() + 5
    while not _take(db, database):
        holders = _lock_holders(db, database)
        gone = [s for s in _gone_sessions(db) if s.pid in holders and s.pid not in ended]
        ended |= {session.pid for session in _end(db, database, gone)}
        alive = holders - ended - {s.pid for s in gone}
        if alive & _sessions(db) or time.monotonic() > deadline:
            return False  # held by a live session (of a live run, as far as is known)
        time.sleep(0.1)
    return True


def release(db: pw.Database, database: str) -> None:
    """Release the run lock of *database* taken with :func:`try_lock` on *db*."""
    if safety.backend_of(db) == "postgres":
        db.execute_sql("SELECT pg_advisory_unlock(hashtext(%s))", (names.lock_name(database),))
    else:
        db.execute_sql("SELECT RELEASE_LOCK(%s)", (names.lock_name(database),))


def end_gone_sessions(db: pw.Database, database: str) -> None:
    """End the sessions on *database* (which *db*, holding its run lock, is
    connected to) of test runs that are gone, saying so: a killed run's
    query would otherwise block this run's DDL until it ends."""
    _end(db, database, _gone_sessions(db))


def in_use_message(name: str, holder: str = "") -> str:
    """The refusal of a database another test run holds."""
    held = f" ({holder})" if holder else ""
    return (
        f"Refusing to use test database {name!r}: another test run (another "
        f"process) is using it right now{held}, and two runs on one database would drop each "
        "other's tables. Nothing was touched. Give each run its own database (--parallel "
        "and pytest -n give every worker one), or wait for the other run to end."
    )


def holder(db: pw.Database, database: str) -> str:
    """Who holds the run lock of *database*, as far as the server tells
    (PostgreSQL: the process its session is named after; MySQL/MariaDB:
    the session and its client's address), or ""."""
    if safety.backend_of(db) == "mysql":
        for session in _lock_holders(db, database):
            row = db.execute_sql("SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = %s",
                                 (session,)).fetchone()
            return f"server session {session}, client {row[0]}" if row else f"server session {session}"
        return ""
    for pid in _lock_holders(db, database):
        row = db.execute_sql("SELECT application_name FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        tag = _parse_tag(str(row[0])) if row else None
        if tag:
            return f"process {tag[0]} on host {tag[1]}"
    return ""


def _take(db: pw.Database, database: str) -> bool:
    if safety.backend_of(db) == "postgres":
        sql = "SELECT pg_try_advisory_lock(hashtext(%s))"
        return bool(db.execute_sql(sql, (names.lock_name(database),)).fetchone()[0])
    return bool(db.execute_sql("SELECT GET_LOCK(%s, 0)", (names.lock_name(database),)).fetchone()[0] == 1)


def _lock_holders(db: pw.Database, database: str) -> set[int]:
    """The server sessions holding the run lock of *database*."""
    if safety.backend_of(db) == "mysql":
        row = db.execute_sql("SELECT IS_USED_LOCK(%s)", (names.lock_name(database),)).fetchone()
        return {int(row[0])} if row and row[0] is not None else set()
    rows = db.execute_sql(
        "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtext(%s)::bigint",
        (names.lock_name(database),),
    ).fetchall()
    return {int(row[0]) for row in rows}


def _sessions(db: pw.Database) -> set[int]:
    """The server's sessions (that are not on their way out)."""
    if safety.backend_of(db) == "postgres":
        rows = db.execute_sql("SELECT pid FROM pg_stat_activity").fetchall()
    else:
        rows = db.execute_sql("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND <> 'Killed'").fetchall()
    return {int(row[0]) for row in rows}


class _Session:
    """A server session of a test run that is gone."""

    def __init__(self, pid: int, who: str) -> None:
        self.pid, self.who = pid, who


def _gone_sessions(db: pw.Database) -> list[_Session]:
    """The other sessions on *db*'s database whose client process is known
    to be gone: on PostgreSQL, named after a process of this machine that
    no longer exists; on MySQL/MariaDB, connected over loopback TCP from a
    port no process of this machine holds any more."""
    if safety.backend_of(db) == "postgres":
        rows = db.execute_sql(
            "SELECT pid, application_name FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        gone = []
        for pid, name in rows:
            tag = _parse_tag(str(name))
            if tag and tag[1] == socket.gethostname()[:len(tag[1])] and not process_exists(tag[0]):
                gone.append(_Session(int(pid), f"process {tag[0]} on this machine"))
        return gone
    rows = db.execute_sql(
        "SELECT ID, HOST FROM information_schema.PROCESSLIST "
        "WHERE DB = DATABASE() AND ID <> CONNECTION_ID()"
    ).fetchall()
    server_port = int(db.connect_params.get("port") or 3306)
    gone = []
    for pid, host in rows:
        address, _, port = str(host).rpartition(":")
        if address.strip("[]") in ("localhost", "127.0.0.1", "::1") and port.isdigit() \
                and not _local_socket_in_use(int(port), server_port):
            gone.append(_Session(int(pid), f"a client on this machine, port {port}, whose process is gone"))
    return gone


def _end(db: pw.Database, database: str, sessions: list[_Session]) -> list[_Session]:
    """End *sessions* (see _gone_sessions), saying so; return those ended."""
    ended = []
    for session in sessions:
        try:
            if safety.backend_of(db) == "postgres":
                db.execute_sql("SELECT pg_terminate_backend(%s)", (session.pid,))
            else:
                db.execute_sql(f"KILL CONNECTION {int(session.pid)}")
        except pw.DatabaseError:  # not allowed, or it has just ended
            continue
        ended.append(session)
        print(f"proper_unittest: test database {database!r} was still used by a test run that is "
              f"gone ({session.who}; server session {session.pid}): ended that session and took "
              "the database over.", file=sys.stderr, flush=True)
    return ended


def _parse_tag(name: str) -> tuple[int, str] | None:
    """``(pid, host)`` from a session name made by name_session, else None."""
    prefix, _, rest = name.partition(" pid=")
    pid, _, host = rest.partition(" host=")
    if prefix != "proper_unittest" or not pid.isdigit() or not host:
        return None
    return int(pid), host


def process_exists(pid: int) -> bool:
    """Whether process *pid* of this machine is alive (a zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's: it exists
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """Whether *pid* has ended but not been reaped: a killed run's process
    whose parent died too stays so until init reaps it (in a container,
    maybe never)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rpartition(")")[2].split()
    return bool(fields) and fields[0] == "Z"


def _local_socket_in_use(port: int, server_port: int) -> bool:
    """Whether a process of this machine holds a TCP socket from local
    *port* to *server_port* (True when the kernel's tables cannot be read:
    then nothing is known to be gone). A socket whose process died is
    orphaned (inode 0) until it closes."""
    found_tables = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found_tables = True
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(local.rpartition(":")[2], 16) == port and int(remote.rpartition(":")[2], 16) == server_port \
                    and inode != "0":
                return True
    return not found_tables
