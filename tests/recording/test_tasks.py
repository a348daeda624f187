"""captureTasks(): tasks are captured, not run, until the test runs them."""
from proper_unittest import ProperTestCase

from tests.support.apps.notes.main import Note


APP = "tests.support.apps.notes.main:app"


class CaptureTasksTests(ProperTestCase):
    app = APP

    def test_tasks_are_captured_not_run(self):
        with self.captureTasks() as tasks:
            result = self.client.post("/notes", body={"title": "t", "count": "1"})
        self.assertStatus(result, 303)
        self.assertEqual(tasks.names, ["count_note"])
        self.assertEqual(tasks[0].args, ("t",))
        self.assertEqual([n.title for n in Note.select()], ["t"])  # nothing ran

        self.assertEqual(tasks.run(), ["T"])
        self.assertEqual([n.title for n in Note.select().order_by(Note.id)], ["t", "counted:t"])
        self.assertEqual(len(tasks), 0)

    def test_outside_the_capture_tasks_run_inline_again(self):
        with self.captureTasks() as tasks:
            pass
        self.assertEqual(tasks.names, [])
        self.client.post("/notes", body={"title": "u", "count": "1"})
        self.assertTrue(Note.select().where(Note.title == "counted:u").exists())
