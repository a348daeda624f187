"""SQLite URI names with many options, read by the library as SQLite
reads them (SQLite itself is the oracle: PRAGMA database_list)."""

import sqlite3
import tempfile
import unittest

from proper_unittest._sqlite_names import read_name


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
