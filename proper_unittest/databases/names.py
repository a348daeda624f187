"""The names the library creates, drops and locks: the characters they may
hold, how they are quoted in SQL, and how a derived name (a worker's, a
rerun's) keeps within the server's length limit and the name rule.
"""
import hashlib
import re

import peewee as pw

from proper_unittest.errors import UnsafeDatabaseError

TEST_WORDS = frozenset({"test", "tests", "testing"})
WORD_SEPARATORS = re.compile(r"[_.\-]+")
#: What a database or SQLite file name the library creates or drops may hold.
SAFE_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
SAFE_CHARACTERS = "letters, digits, '_', '-' and '.'"
#: What a PostgreSQL schema the library creates may hold (no '.', which
#: separates the schema from the table in the names the library lists).
SAFE_SCHEMA = re.compile(r"[A-Za-z0-9_\-]+")
SAFE_SCHEMA_CHARACTERS = "letters, digits, '_' and '-'"
#: The longest database name each server keeps (PostgreSQL: bytes, MySQL:
#: characters; the same for SAFE_NAME's ASCII), longer ones are cut short.
NAME_LIMITS = {"postgres": 63, "mysql": 64}
_HASH_LENGTH = 8


def test_words(name: str) -> list[str]:
    """The words of `name` that are "test", "tests" or "testing" (any case)."""
    return [word for word in WORD_SEPARATORS.split(name) if word.lower() in TEST_WORDS]


def why_not_a_safe_name(name: str) -> str | None:
    """Why `name` may not be created or dropped by the library, or None."""
    if SAFE_NAME.fullmatch(name):
        return None
    others = sorted({char for char in name if not SAFE_NAME.fullmatch(char)})
    return (f"{name!r} holds {', '.join(repr(char) for char in others) or 'nothing'}: a name "
            f"the library creates or drops may hold only {SAFE_CHARACTERS}")


def why_too_long(name: str, backend: str) -> str | None:
    """Why `name` is longer than `backend`'s server keeps, or None."""
    limit = NAME_LIMITS.get(backend)
    if limit is None or len(name.encode()) <= limit:
        return None
    return (f"{name!r} is {len(name.encode())} bytes long and the server keeps only "
            f"{limit}: it would connect to a name cut short")


def quote_identifier(db: pw.Database, name: str) -> str:
    """`name` quoted for `db`'s SQL, an embedded quote character doubled."""
    closing = db.quote[1:]  # peewee's quote is the pair of quote characters
    return db.quote[:1] + name.replace(closing, closing * 2) + closing


def quote_table(db: pw.Database, name: str, postgres: bool) -> str:
    """A table name as the library lists it (``table``, or on PostgreSQL
    ``schema.table``: the first dot ends the schema) quoted for `db`'s SQL."""
    schema, dot, table = name.partition(".")
    if postgres and dot:
        return f"{quote_identifier(db, schema)}.{quote_identifier(db, table)}"
    return quote_identifier(db, name)


def derived_name(base: str, suffix: str, backend: str) -> str:
    """``<base>_<suffix>``; when that is longer than `backend` keeps, `base`
    is cut short and followed by a hash of it and its last test word, so
    that two long bases never end up with one name and the name rule holds.
    """
    name = f"{base}_{suffix}"
    limit = NAME_LIMITS.get(backend)
    if limit is None or len(name) <= limit:
        return name
    words = test_words(base)
    digest = hashlib.sha256(base.encode()).hexdigest()[:_HASH_LENGTH]
    tail = "_".join(["", digest, *words[-1:], suffix])
    room = limit - len(tail)
    if room < 1:
        raise UnsafeDatabaseError(
            f"Refusing to derive a database name from {base!r} for {suffix!r}: the server keeps "
            f"only {limit} characters. Use a shorter suffix. No database was touched."
        )
    return base[:room] + tail


def lock_name(name: str) -> str:
    """The server lock that marks database `name` as in use by a test run
    (a hash: MySQL's lock names keep 64 characters)."""
    return "proper_unittest:" + hashlib.sha256(name.encode()).hexdigest()[:40]
