"""MySQL/MariaDB: a test that moves the app's connection to another database
(``USE other``) cannot turn the library's clean-up on that database: its
statements name the test database, the connection is switched back, and the
run is refused, naming the test or class and where it went."""
import unittest

from proper_unittest import ProperTransactionTestCase

from tests.support.apps.notes.main import Note, db
from tests.support.apps.testdb import backend
from tests.support.inner import NotesCase as Notes, run_inner, run_suite
from tests.support.outcomes import the_error
from tests.support.servers import database_exists, drop_database, scratch_database, server_database, worker_suffix


@unittest.skipUnless(backend() == "mysql", "only MySQL/MariaDB switch databases on a connection (USE)")
class DatabaseSwitchTests(unittest.TestCase):
    def setUp(self):
        # Another database of the server holding a table named as the app's, with a row.
        self.other_name = f"pu_switch_other{worker_suffix()}"
        self.other = scratch_database(self.other_name)
        self.other.connect()
        self.other.execute_sql(f"CREATE TABLE {Note._meta.table_name} (id INTEGER, title VARCHAR(100))")
        self.other.execute_sql(f"INSERT INTO {Note._meta.table_name} VALUES (1, 'theirs')")
        self.addCleanup(drop_database, self.other)

    def other_rows(self):
        return self.other.execute_sql(f"SELECT id, title FROM {Note._meta.table_name}").fetchall()

    def switch(self):
        db.execute_sql(f"USE {self.other_name}")

    def test_a_class_whose_test_switched_is_refused_and_the_other_database_is_untouched(self):
        outer = self

        class Switches(Notes):
            def test_1_switches_after_writing(self):
                Note.create(title="ours")
                outer.switch()

        class RunsAfter(Notes):
            def test_on_the_test_database_again(self):
                self.assertEqual(Note.select().count(), 0)

        run = run_inner(Switches, RunsAfter)
        error, output = the_error(self, run), run[1]
        self.assertIn("Refusing to go on: the class", error)
        self.assertIn("Switches", error)
        self.assertIn(repr(self.other_name), error)
        self.assertEqual(self.other_rows(), ((1, "theirs"),), output)
        current = db.execute_sql("SELECT DATABASE()").fetchone()[0]
        self.assertNotEqual(current, self.other_name, "the connection was switched back")

    def test_a_transaction_test_that_switched_is_refused_by_name_and_nothing_is_emptied_there(self):
        outer = self

        class SwitchesAndCommits(ProperTransactionTestCase):
            app = "tests.support.apps.notes.main:app"

            def test_switches(self):
                Note.create(title="ours, committed")
                outer.switch()

        run = run_inner(SwitchesAndCommits)
        error, output = the_error(self, run), run[1]
        self.assertIn("the test ", error)
        self.assertIn("test_switches", error)
        self.assertEqual(self.other_rows(), ((1, "theirs"),), output)
        self.assertEqual(Note.select().count(), 0, "the test database's rows were emptied")


RENAMES_ITS_DATABASE = '''
from proper_unittest import ProperTestCase
from tests.support.apps.notes.main import Note, db

class Renames(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_points_the_database_object_elsewhere(self):
        Note.create(title="ours")
        db.database = "{other}"
        for key in ("database", "db", "dbname"):
            if key in db.connect_params:
                db.connect_params[key] = "{other}"
'''

SWITCHES_WITH_USE = '''
from proper_unittest import ProperTestCase
from tests.support.apps.notes.main import Note, db

class Switches(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_switches(self):
        db.execute_sql("USE {other}")
'''


@unittest.skipIf(backend() == "sqlite", "server databases only")
class RemovalAtExitTests(unittest.TestCase):
    """The exit removes what was claimed, where it was claimed, whatever a
    test did to the Database object or its connection."""

    def test_a_renamed_database_object_does_not_turn_the_drop_on_another_database(self):
        other = scratch_database(f"pu_rename_other{worker_suffix()}")  # empty: a drop would pass its check
        self.addCleanup(drop_database, other)
        own = f"pu_rename_own_test{worker_suffix()}"
        drop_database(server_database(own))
        done = run_suite(RENAMES_ITS_DATABASE.replace("{other}", other.database),
                         env={"NOTES_DB_NAME": own})
        self.assertTrue(database_exists(other.database), done.stderr)
        self.assertFalse(database_exists(own), "the database it created is dropped\n" + done.stderr)

    @unittest.skipUnless(backend() == "mysql", "USE is MySQL/MariaDB's")
    def test_an_adopted_database_drops_its_tables_there_not_where_a_test_switched_to(self):
        other = scratch_database(f"pu_adopt_other{worker_suffix()}")
        self.addCleanup(drop_database, other)
        other.connect()
        other.execute_sql(f"CREATE TABLE {Note._meta.table_name} (id INTEGER)")
        other.execute_sql(f"INSERT INTO {Note._meta.table_name} VALUES (7)")
        adopted = scratch_database(f"pu_adopted_test{worker_suffix()}")  # exists and empty: adopted
        self.addCleanup(drop_database, adopted)
        done = run_suite(SWITCHES_WITH_USE.replace("{other}", other.database),
                         env={"NOTES_DB_NAME": adopted.database})
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertIn("Refusing to go on", done.stderr)
        self.assertEqual(other.execute_sql(f"SELECT id FROM {Note._meta.table_name}").fetchall(), ((7,),))
        adopted.connect()
        left = adopted.execute_sql("SHOW TABLES").fetchall()
        self.assertEqual(left, (), "its tables and marker were dropped in the adopted database")
