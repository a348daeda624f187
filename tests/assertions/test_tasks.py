"""The task assertions (assertEnqueued, assertNotEnqueued, runEnqueued)."""
from tests.support.apps.journal.main import Entry, failing_task, index_entry
from tests.support.cases import JournalCase


class TaskAssertionTests(JournalCase):
    def test_tasks_run_inline_are_recorded_with_their_arguments(self):
        self.client.post("/entries", body={"text": "hello"})
        entry = Entry.get()
        self.assertEqual(entry.text, "hello [indexed:new]")  # it did run, inline
        calls = self.assertEnqueued(index_entry, count=1, args=(entry.id,))
        self.assertTrue(calls[0].run)
        self.assertEnqueued("index_entry", kwargs={})
        self.assertNotEnqueued(failing_task)

    def test_a_missing_task_lists_what_was_enqueued(self):
        self.client.post("/entries", body={"text": "hello"})
        message = self.failure(self.assertEnqueued, failing_task)
        self.assertIn("Expected failing_task to be enqueued at least once; it was 0 time(s)", message)
        self.assertIn("1. index_entry(", message)
        self.assertIn("[ran]", message)

    def test_wrong_arguments_or_count_fail_with_the_filters_named(self):
        index_entry(Entry.create(text="a").id, reason="manual")
        message = self.failure(self.assertEnqueued, index_entry, args=(999,))
        self.assertIn("with args=(999,)", message)
        message = self.failure(self.assertEnqueued, index_entry, count=2, kwargs={"reason": "manual"})
        self.assertIn("2 time(s) with kwargs={'reason': 'manual'}; it was 1 time(s)", message)

    def test_a_boolean_argument_matches_only_a_boolean(self):
        with self.captureTasks():
            index_entry(1, reason=0)
        self.assertEnqueued(index_entry, args=[1], kwargs={"reason": 0})
        self.assertIn("with args=(True,)", self.failure(self.assertEnqueued, index_entry, args=(True,)))
        self.failure(self.assertEnqueued, index_entry, kwargs={"reason": False})

    def test_not_enqueued_fails_with_the_calls(self):
        self.client.post("/entries", body={"text": "x"})
        message = self.failure(self.assertNotEnqueued, index_entry)
        self.assertIn("Expected index_entry not to be enqueued; it was 1 time(s)", message)

    def test_no_task_at_all_says_so(self):
        self.assertIn("No task was enqueued in this test.", self.failure(self.assertEnqueued, index_entry))

    def test_captured_tasks_are_recorded_and_run_enqueued_runs_them_once(self):
        with self.captureTasks() as tasks:
            self.client.post("/entries", body={"text": "held"})
        entry = Entry.get()
        self.assertEqual(entry.text, "held")
        [call] = self.assertEnqueued(index_entry, args=(entry.id,))
        self.assertFalse(call.run)
        self.assertEqual(self.runEnqueued(), ["held [indexed:new]"])
        self.assertEqual(Entry.get().text, "held [indexed:new]")
        self.assertEqual(self.runEnqueued(), [])  # nothing left: not run twice
        self.assertEqual(len(tasks), 1)

    def test_run_enqueued_runs_what_a_non_immediate_queue_holds_and_what_tasks_enqueue(self):
        self.app.queue.immediate = False
        entry = Entry.create(text="e")
        index_entry(entry.id, reason="chain")
        self.assertEqual(Entry.get().text, "e")
        self.runEnqueued()
        self.assertEqual(Entry.get().text, "e [indexed:chain] [indexed:again]")
        self.assertEnqueued(index_entry, count=2)
        self.assertEqual(len(self.app.queue.pending()), 0)

    def test_run_enqueued_skips_tasks_captured_and_already_run(self):
        with self.captureTasks() as tasks:
            index_entry(Entry.create(text="c").id)
        tasks.run()
        self.assertEqual(self.runEnqueued(), [])
        self.assertEqual(Entry.get().text, "c [indexed:new]")

    def test_a_failing_task_raises_from_run_enqueued(self):
        with self.captureTasks():
            self.client.get("/fail-task")
        with self.assertRaisesRegex(RuntimeError, "on purpose"):
            self.runEnqueued()

    def test_something_else_than_a_task_is_refused(self):
        with self.assertRaises(TypeError) as raised:
            self.assertEnqueued(42)
        self.assertIn("Expected a huey task", str(raised.exception))
