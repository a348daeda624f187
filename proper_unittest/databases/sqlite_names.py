"""What a SQLite database name opens, read the way SQLite reads it.

A name starting with ``file:`` is a URI when the connection asks for URIs
(``uri=True``) or SQLite was built to read them always (``USE_URI``).
SQLite then reads (see https://www.sqlite.org/uri.html): an authority,
which must be empty or ``localhost``; the path up to ``?`` or ``#``, with
``%HH`` decoded and ``%00`` ending it; options up to ``#``, of which the
last ``mode`` wins. This module follows SQLite's own parser
(``sqlite3ParseUri``) step by step; what it cannot vouch for (another VFS,
an unknown mode, bytes that are not UTF-8) is reported as a problem.
"""
import os
import sqlite3
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

# SQLite's open flags: a "mode" replaces the access bits, and may not ask
# for more access than those before it allowed (Python opens read-write-create).
_READ_ONLY, _READ_WRITE, _CREATE, _MEMORY = 0x1, 0x2, 0x4, 0x80
_MODES = {"ro": _READ_ONLY, "rw": _READ_WRITE, "rwc": _READ_WRITE | _CREATE, "memory": _MEMORY}
_ACCESS = _READ_ONLY | _READ_WRITE | _CREATE | _MEMORY


@dataclass(frozen=True)
class SqliteName:
    """What a SQLite database name opens."""

    in_memory: bool
    path: str  # the file SQLite opens ("" in memory)
    is_uri: bool = False
    query: str = ""  # a URI's options, as written (up to "#")
    problem: str | None = None  # why what it opens cannot be told


@cache
def sqlite_reads_uris_always() -> bool:
    """True when this SQLite was built with ``SQLITE_USE_URI=1``."""
    connection = sqlite3.connect(":memory:")
    try:
        return any(row[0] == "USE_URI=1" or row[0] == "USE_URI" for row in
                   connection.execute("PRAGMA compile_options"))
    finally:
        connection.close()


def read_name(name: str, uri: bool) -> SqliteName:
    """What `name` opens, given the connection's ``uri`` option."""
    if name in (":memory:", ""):  # "" is SQLite's private temporary database
        return SqliteName(in_memory=True, path="")
    if not name.startswith("file:") or not (uri or sqlite_reads_uris_always()):
        return SqliteName(in_memory=False, path=name)
    return _read_uri(name)


def connection_name(db: Any) -> SqliteName:
    """What peewee SqliteDatabase `db` opens."""
    return read_name(str(db.database or ""), bool(db.connect_params.get("uri")))


def with_path(name: SqliteName, path: str) -> str:
    """A database name that opens `path` the way `name` does (same URI options)."""
    if not name.is_uri:
        return path
    return "file:" + quote(path, safe="/") + (f"?{name.query}" if name.query else "")


def _read_uri(name: str) -> SqliteName:
    data = name.encode()
    start = 5
    if data[5:7] == b"//":
        end = data.find(b"/", 7)
        end = len(data) if end < 0 else end
        if data[7:end] not in (b"", b"localhost"):
            return _unprovable(name, f"its URI authority {data[7:end].decode(errors='replace')!r} "
                                     "is not empty or 'localhost' (SQLite refuses it)")
        start = end
    path, options, query = _parse(data, start)
    try:
        decoded = path.decode()
    except UnicodeDecodeError:
        return _unprovable(name, "its URI path is not UTF-8 once decoded")
    flags = _READ_WRITE | _CREATE
    for key, value in options:
        if key == b"vfs":
            return _unprovable(name, "it names a VFS, whose files the library cannot check")
        if key == b"mode":
            mode = _MODES.get(value.decode(errors="replace"), 0)
            if not mode:
                return _unprovable(name, f"its mode {value.decode(errors='replace')!r} is not one of "
                                         f"{', '.join(_MODES)}")
            if mode & ~_MEMORY > flags & _ACCESS:
                return _unprovable(name, f"its mode {value.decode()!r} asks for more than an earlier mode allows")
            flags = flags & ~_ACCESS | mode
    in_memory = bool(flags & _MEMORY) or decoded in (":memory:", "")
    return SqliteName(in_memory=in_memory, path="" if in_memory else decoded, is_uri=True, query=query)


def _parse(data: bytes, start: int) -> tuple[bytes, list[tuple[bytes, bytes]], str]:
    """Path, options and the options' text of a URI, after its authority:
    SQLite's loop, which writes path, names and values NUL-separated."""
    out = bytearray()
    state = 0  # 0: path, 1: option name, 2: option value
    i = start
    query_start = None
    while i < len(data) and data[i] != ord("#"):
        char = data[i]
        i += 1
        if char == ord("%") and _is_hex(data[i:i + 1]) and _is_hex(data[i + 1:i + 2]):
            octet = int(data[i:i + 2], 16)
            i += 2
            if octet == 0:  # SQLite skips the rest of this path, name or value
                while i < len(data) and data[i] != ord("#") and not (
                    (state == 0 and data[i] == ord("?"))
                    or (state == 1 and data[i] in b"=&")
                    or (state == 2 and data[i] == ord("&"))
                ):
                    i += 1
                continue
            char = octet
        elif state == 1 and char in b"&=":
            if out[-1] == 0:  # an empty option name: SQLite ignores the option
                while i < len(data) and data[i] != ord("#") and data[i - 1] != ord("&"):
                    i += 1
                continue
            if char == ord("&"):
                out.append(0)
            else:
                state = 2
            char = 0
        elif (state == 0 and char == ord("?")) or (state == 2 and char == ord("&")):
            if state == 0:
                query_start = i
            char = 0
            state = 1
        out.append(char)
    if state == 1:
        out.append(0)
    out += b"\0\0\0\0"
    path, _, rest = bytes(out).partition(b"\0")
    options = []
    fields = rest.split(b"\0")
    for index in range(0, len(fields) - 1, 2):
        if not fields[index]:
            break
        options.append((fields[index], fields[index + 1]))
    query = "" if query_start is None else data[query_start:i].decode(errors="surrogateescape")
    return path, options, query


def _is_hex(char: bytes) -> bool:
    return len(char) == 1 and char in b"0123456789abcdefABCDEF"


def _unprovable(name: str, why: str) -> SqliteName:
    return SqliteName(in_memory=False, path="", is_uri=True,
                      problem=f"{why}; give the file's plain path, or a URI whose file and mode can be read")


def absolute(path: str) -> str:
    """`path` made absolute against the current folder (not resolving links)."""
    return os.path.abspath(path)
