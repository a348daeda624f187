"""A test class's recordings note through wrappers put on once for the
class (recording.recorder.RecordingHub); each test's recording gets what
happened during that test only."""
import unittest

import peewee as pw
from huey import signals as huey_signals

from proper_unittest.recording import recorder
from tests.support.apps.notes.main import app, db
from tests.support.inner import NotesCase, run_inner


def wrappers():
    """What is on the app's objects now, instead of their own methods."""
    return {
        "execute_sql": vars(db).get("execute_sql"),
        "broadcast": vars(app.cable).get("broadcast"),
        "get_component_data": vars(app.catalog).get("get_component_data"),
        "signals": len(app.queue._signal.receivers.get(huey_signals.SIGNAL_ENQUEUED, [])),
    }


NOTHING_ON = {"execute_sql": None, "broadcast": None, "get_component_data": None, "signals": 0}


class RecordingHubTests(unittest.TestCase):
    """A plain TestCase: nothing of this module's own is on the app."""

    def test_the_wrappers_go_on_once_for_a_class_and_come_off_after_it(self):
        seen = []

        class Inner(NotesCase):
            def test_one(self):
                seen.append(wrappers())

            def test_two(self):
                seen.append(wrappers())

        self.assertEqual(wrappers(), NOTHING_ON)
        result, output = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(seen[0], seen[1])  # the same wrappers for both tests
        self.assertTrue(all(seen[0][name] is not None for name in ("execute_sql", "broadcast",
                                                                    "get_component_data")))
        self.assertEqual(seen[0]["signals"], 1)
        self.assertEqual(wrappers(), NOTHING_ON)

    def test_each_test_records_what_happened_in_it_only(self):
        recorded = {}

        class Inner(NotesCase):
            @classmethod
            def setUpTestData(cls):
                db.execute_sql("SELECT 'class data'")
                app.cable.broadcast("notes", {"title": "class data"})

            def test_one(self):
                db.execute_sql("SELECT 'marker one'")
                app.cable.broadcast("notes", {"title": "one"})
                self.client.post("/notes", body={"title": "first", "count": "1"})
                recorded["one"] = self._recording

            def test_two(self):
                db.execute_sql("SELECT 'marker two'")
                recorded["two"] = self._recording

        result, output = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), output)
        one, two = recorded["one"], recorded["two"]
        self.assertIn("SELECT 'marker one'", one.sql.statements)
        self.assertNotIn("SELECT 'class data'", one.sql.statements)
        self.assertNotIn("SELECT 'marker one'", two.sql.statements)
        self.assertIn("SELECT 'marker two'", two.sql.statements)
        self.assertEqual(one.broadcasts.on("notes"), [{"title": "one"}, {"title": "first"}])
        self.assertEqual(two.broadcasts.entries, [])
        self.assertEqual([(entry.name, entry.run) for entry in one.tasks.entries], [("count_note", True)])
        self.assertEqual(two.tasks.entries, [])

    def test_a_test_run_inside_a_test_is_recorded_by_both(self):
        recorded = {}

        class Innermost(NotesCase):
            def test_inner(self):
                db.execute_sql("SELECT 'inner'")
                app.cable.broadcast("inner", 1)
                recorded["inner"] = self._recording

        class Outer(NotesCase):
            def test_outer(self):
                result, output = run_inner(Innermost)
                self.assertTrue(result.wasSuccessful(), output)
                db.execute_sql("SELECT 'outer'")
                recorded["outer"] = self._recording

        result, output = run_inner(Outer)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertIn("SELECT 'inner'", recorded["inner"].sql.statements)
        self.assertNotIn("SELECT 'outer'", recorded["inner"].sql.statements)
        self.assertIn("SELECT 'inner'", recorded["outer"].sql.statements)
        self.assertEqual(recorded["outer"].broadcasts.on("inner"), [1])
        self.assertEqual(wrappers(), NOTHING_ON)

    def test_without_the_flight_recorder_no_statement_is_kept_and_execute_sql_is_left_alone(self):
        seen = {}

        class Inner(NotesCase):
            flight_recorder = False

            def test_one(self):
                seen["execute_sql"] = vars(db).get("execute_sql")
                seen["sql"] = self._recording.sql

        result, output = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(seen, {"execute_sql": None, "sql": None})

    def test_a_recording_without_a_class_puts_its_own_wrappers_on_and_off(self):
        memory = pw.SqliteDatabase(":memory:")
        self.addCleanup(memory.close)
        recording = recorder.TestRecording(app, [memory], record_sql=True).start()
        try:
            self.assertIn("execute_sql", vars(memory))
            self.assertTrue(all(wrappers()[name] for name in ("broadcast", "get_component_data", "signals")))
            memory.execute_sql("SELECT 'alone'")
            app.cable.broadcast("alone", 1)
        finally:
            recording.stop()
        self.assertNotIn("execute_sql", vars(memory))
        self.assertEqual(wrappers(), NOTHING_ON)
        self.assertEqual(recording.sql.statements, ["SELECT 'alone'"])
        self.assertEqual(recording.broadcasts.on("alone"), [1])
