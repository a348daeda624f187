"""Databases with a sentinel that must survive, and the inner apps that would reach them."""
import unittest
from pathlib import Path

import peewee as pw

from tests.support.apps.testdb import backend, database_config
from tests.support.servers import drop_database, scratch_database


# A one-model app whose main database is configured by MAIN (a DATABASES
# entry); EXTRA adds code (say, a model bound to another database).
INNER_APP = '''
import os
import peewee as pw
from proper import App
from proper_unittest import ProperTestCase

app = App(__name__, config={{"SECRET_KEYS": ["s" * 64], "DATABASES": {{"main": {main!r}}}}})
db = app.db["main"]


class Item(pw.Model):
    title = pw.CharField()

    class Meta:
        database = db
        table_name = "pu_item"

{extra}

class ItemTests(ProperTestCase):
    app = app

    def test_write(self):
        Item.create(title="x")
        self.assertEqual(Item.select().count(), 1)
        if os.environ.get("PU_CRASH"):  # leave everything behind, as a killed run would
            os._exit(0)
        if os.environ.get("PU_HOLD_DIR"):  # stay in the test until told to go on
            hold_until_told()
{more_classes}

def hold_until_told():
    import pathlib, time
    folder = pathlib.Path(os.environ["PU_HOLD_DIR"])
    (folder / "ready").touch()
    for _ in range(600):
        if (folder / "go").exists():
            break
        time.sleep(0.05)
'''

MORE_CLASSES = '''

class MoreTests(ProperTestCase):
    app = app

    def test_a(self):
        pass


class EvenMoreTests(ProperTestCase):
    app = app

    def test_b(self):
        pass
'''


def inner_app(main: dict, extra: str = "", more_classes: bool = False) -> str:
    """The source of a test module with its own app (see INNER_APP)."""
    return INNER_APP.format(main=main, extra=extra, more_classes=MORE_CLASSES if more_classes else "")


class Planted:
    """A database with a sentinel table and row that must survive."""

    def __init__(self, case: unittest.TestCase, name: str, tables=("note",)) -> None:
        self.case = case
        self.db = scratch_database(name, case.folder) if backend() != "sqlite" else pw.SqliteDatabase(
            str(Path(case.folder, name))
        )
        case.addCleanup(drop_database, self.db)
        self.tables = tables
        self.db.connect()
        for table in tables:
            self.db.execute_sql(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, title VARCHAR(50))")
            self.db.execute_sql(f"INSERT INTO {table} (id, title) VALUES (1, 'production data')")
        self.db.close()

    @property
    def name(self) -> str:
        return self.db.database

    def config(self, **extra) -> dict:
        """The DATABASES entry that points at this database."""
        if backend() == "sqlite":
            return {"type": "peewee.SqliteDatabase", "database": self.db.database, **extra}
        return {**database_config(self.db.database), **extra}

    def assert_untouched(self) -> None:
        """Every sentinel row and table is there, and nothing else."""
        if backend() == "sqlite":
            self.case.assertTrue(Path(self.db.database).exists(), "the file must not be deleted")
        self.db.connect()
        try:
            for table in self.tables:
                rows = [tuple(r) for r in self.db.execute_sql(f"SELECT id, title FROM {table}").fetchall()]
                self.case.assertEqual(rows, [(1, "production data")], table)
            self.case.assertEqual(sorted(self.db.get_tables()), sorted(self.tables),
                                  "no table may be created or dropped")
        finally:
            self.db.close()
