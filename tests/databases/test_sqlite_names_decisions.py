"""SQLite URI names with many options, read by the library as SQLite
reads them (SQLite itself is the oracle: PRAGMA database_list)."""

import os
import sqlite3
import tempfile
import unittest

from proper_unittest.databases.sqlite_names import read_name, sqlite_reads_uris_always


def opened_by_sqlite(name: str, uri: bool = True) -> str:
    """The main database's file as SQLite opens `name` ("" in memory)."""
    connection = sqlite3.connect(name, uri=uri)
    try:
        return connection.execute("PRAGMA database_list").fetchall()[0][2]
    finally:
        connection.close()


class ReadAsSqliteTestCase(unittest.TestCase):
    def assert_read_as_sqlite_reads(self, uris: tuple[str, ...], absolute: bool = False) -> None:
        """Each URI read with no problem, as SQLite opens it (`absolute`:
        the path read made absolute first, for relative URIs)."""
        for uri in uris:
            with self.subTest(uri=uri):
                read = read_name(uri, uri=True)
                opened = opened_by_sqlite(uri)
                self.assertIsNone(read.problem)
                path = read.path and os.path.abspath(read.path) if absolute else read.path
                self.assertEqual((read.in_memory, path), (opened == "", opened))


class ManyOptionsTests(unittest.TestCase):
    def opened_by_sqlite(self, uri: str) -> str | None:
        connection = sqlite3.connect(uri, uri=True)
        try:
            connection.execute("CREATE TABLE IF NOT EXISTS probe (x)")
            return connection.execute("PRAGMA database_list").fetchall()[0][2]
        finally:
            connection.close()

    def test_the_last_mode_wins_after_many_options(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        options = "&".join(f"o{i}=v{i}" for i in range(8))
        for tail in ("mode=memory", "mode=memory&mode=rwc", "mode=rwc&o9=x&mode=memory", f"{options}"):
            uri = f"file:{folder}/many_test.db?{options}&{tail}"
            with self.subTest(tail=tail):
                read = read_name(uri, uri=True)
                opened = self.opened_by_sqlite(uri)
                self.assertIsNone(read.problem)
                self.assertEqual((read.in_memory, read.path), (opened == "", opened))


class RepeatedModeTests(unittest.TestCase):
    """Every sequence of two or three modes on an existing file: SQLite
    refuses a mode asking for more than the one before allowed."""

    def test_mode_sequences(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        path = f"{folder}/modes_test.db"
        sqlite3.connect(path).close()
        modes = ["ro", "rw", "rwc", "memory"]
        sequences = [(a, b) for a in modes for b in modes] + [(a, b, c) for a in modes for b in modes for c in modes]
        for sequence in sequences:
            uri = f"file:{path}?" + "&".join(f"mode={m}" for m in sequence)
            with self.subTest(modes=sequence):
                read = read_name(uri, uri=True)
                try:
                    opened = opened_by_sqlite(uri)
                except sqlite3.Error:
                    self.assertIsNotNone(read.problem, "SQLite refuses it: so must the library")
                    continue
                self.assertIsNone(read.problem)
                self.assertEqual((read.in_memory, read.path), (opened == "", opened))


# Pieces of URIs that SQLite's parser treats specially, combined three at a time.
PIECES = ["a", "%00", "?", "&", "=", "#", "mode=memory", "mode=ro", "%3F", "%26", "x=1", "%4", "%zz", "/"]


class CombinedPiecesTests(unittest.TestCase):
    """Every URI made of three pieces after a file path that SQLite opens,
    read by the library as SQLite reads it (or refused); and a
    name starting with file: read as a plain path without uri=True."""

    def test_three_pieces(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        for a in PIECES:
            for b in PIECES:
                for c in PIECES:
                    uri = f"file:{folder}/t{a}{b}{c}"
                    read = read_name(uri, uri=True)
                    try:
                        opened = opened_by_sqlite(uri)
                    except sqlite3.Error:
                        opened = None
                    if opened is None:  # refused (a bad mode, a missing folder): UriTests covers these
                        continue
                    if read.problem is None:  # a URI the library cannot vouch for may be refused
                        # SQLite reports the full path normalized ("t/" as "t").
                        path = os.path.normpath(read.path) if read.path else ""
                        self.assertEqual((read.in_memory, path), (opened == "", opened), uri)

    def test_without_uri_a_file_name_is_a_path(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        name = f"file:{folder}/plain_test.db?mode=memory"
        read = read_name(name, uri=False)
        opened = opened_by_sqlite(name, uri=False)
        self.assertEqual((read.in_memory, read.is_uri), (opened == "", opened == ""))


class UnprovableTests(unittest.TestCase):
    def test_a_uri_that_cannot_be_read_is_no_memory_and_no_path(self):
        for uri in ("file:x_test.db?vfs=unix", "file:x_test.db?mode=bogus", "file://example.com/x_test.db",
                    "file:%FF_test.db", "file:x_test.db?mode=ro&mode=rw"):
            with self.subTest(uri=uri):
                read = read_name(uri, uri=True)
                self.assertIsNotNone(read.problem)
                self.assertEqual((read.in_memory, read.path, read.is_uri), (False, "", True))

    def test_this_sqlite_reads_file_names_as_uris_or_not(self):
        sqlite_reads_uris_always.cache_clear()  # asked here, not by whichever test came first
        folder = self.enterContext(tempfile.TemporaryDirectory())
        opened = opened_by_sqlite(f"file:{folder}/x_test.db?mode=memory", uri=False)
        self.assertEqual(sqlite_reads_uris_always(), opened == "")


class MoreUriTests(ReadAsSqliteTestCase):
    """An empty authority, option values that are option names, the
    authority named in the refusal."""

    def test_read_as_sqlite_reads_them(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        self.assert_read_as_sqlite_reads((
            f"file://{folder}/e_test.db", f"file:{folder}/v_test.db?x=mode&y=1",
            f"file:{folder}/v_test.db?x=vfs&y=1", f"file://localhost{folder}/l_test.db?a=b&c"))

    def test_the_authority_is_named(self):
        read = read_name("file://example.com/x_test.db", uri=True)
        self.assertIn("its URI authority 'example.com' is not empty or 'localhost'", read.problem)


class BytesAroundTheSeparatorsTests(ReadAsSqliteTestCase):
    """Bytes sorting just below '%', '&' and '/' where SQLite reads '%HH',
    '&' and '//' only: each read as SQLite reads it."""

    def test_read_as_sqlite_reads_them(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        cwd = os.getcwd()
        os.chdir(folder)
        self.addCleanup(os.chdir, cwd)
        self.assert_read_as_sqlite_reads((
            f"file:{folder}/s_test.db?mode=memory%00!b", f"file:{folder}/x_test.db?x&mode=memory",
            f"file:{folder}/v_test.db?a=b!mode=memory", "file:./r_test.db", f"file:{folder}/h!41_test.db"),
            absolute=True)

    def test_after_a_nul_an_empty_name_and_past_256_bytes(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        long = "l" * 300
        self.assert_read_as_sqlite_reads((
            f"file:{folder}/q_test.db?mode=memory%00?x", f"file:{folder}/e_test.db?mode=memory%00=x",
            f"file:{folder}/r_test.db?mode=rw%00x&mode=memory", f"file:{folder}/f_test.db?=x#&mode=memory",
            f"file:{folder}/g_test.db?a=b?mode=memory", f"file:{folder}/h_test.db?=x!mode=memory",
            f"file:{folder}/{long}_test.db?mode=memory", f"file:{folder}/l_test.db?mode=memory%00{long}",
            f"file:{folder}/l_test.db?mode=memory&={long}", "file://localhost"))

    def test_a_mode_without_a_value_is_refused_by_both(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        uri = f"file:{folder}/m_test.db?mode"
        with self.assertRaises(sqlite3.OperationalError):
            sqlite3.connect(uri, uri=True)
        self.assertIn("its mode '' is not one of", read_name(uri, uri=True).problem)
