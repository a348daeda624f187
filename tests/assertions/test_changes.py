"""assertChanges and assertNoChanges: passing, and failing with what changed."""
import threading

from tests.support.apps.journal.main import Entry
from tests.support.cases import JournalCase


class ChangeAssertionTests(JournalCase):
    def test_by_from_and_to_pass_when_they_hold(self):
        with self.assertChanges(lambda: Entry.select().count(), by=2, from_=0, to=2):
            self.client.post("/entries", body={"text": "one"})
            self.client.post("/entries", body={"text": "two"})

    def test_any_change_passes_without_by_or_to(self):
        entry = Entry.create(text="old")
        with self.assertChanges(lambda: Entry.get_by_id(entry.id).text):
            entry.text = "new"
            entry.save()

    def test_a_wrong_difference_says_by_how_much_and_the_values(self):
        message = self.block_failure(
            self.assertChanges(lambda: Entry.select().count(), by=2),
            lambda: self.client.post("/entries", body={"text": "only one"}),
        )
        self.assertIn("Entry.select().count()", message)
        self.assertIn("expected a change by 2, it changed by 1", message)
        self.assertIn("Before the block: 0", message)
        self.assertIn("After the block:  1", message)

    def test_no_change_fails_when_a_change_was_expected(self):
        message = self.block_failure(self.assertChanges(lambda: Entry.select().count()), lambda: None)
        self.assertIn("expected it to change", message)

    def test_to_or_from_and_to_fail_when_nothing_changed(self):
        for expected in ({"to": 0}, {"from_": 0, "to": 0}):
            with self.subTest(**expected):
                message = self.block_failure(self.assertChanges(lambda: Entry.select().count(), **expected),
                                             lambda: None)
                self.assertIn("expected it to change", message)

    def test_with_by_the_difference_decides(self):
        with self.assertChanges(lambda: Entry.select().count(), by=0, to=0):
            pass
        message = self.block_failure(self.assertChanges(lambda: Entry.select().count(), by=1), lambda: None)
        self.assertIn("expected a change by 1, it changed by 0", message)

    def test_a_value_changed_in_place_is_a_change(self):
        items = []
        message = self.block_failure(self.assertNoChanges(lambda: items), lambda: items.append(1))
        self.assertIn("Before the block: []", message)
        self.assertIn("After the block:  [1]", message)
        settings = {"a": 0}
        with self.assertChanges(lambda: settings, from_={"a": 0}, to={"a": 1}):
            settings["a"] = 1
        message = self.block_failure(self.assertChanges(lambda: settings, to={"a": 1}), lambda: None)
        self.assertIn("expected it to change", message)

    def test_a_value_that_cannot_be_copied_is_compared_as_it_is(self):
        lock = threading.Lock()
        with self.assertNoChanges(lambda: lock):
            pass
        message = self.block_failure(self.assertChanges(lambda: lock), lambda: None)
        self.assertIn("expected it to change", message)

    def test_a_wrong_start_fails_before_the_block_runs(self):
        ran = []
        message = self.block_failure(
            self.assertChanges(lambda: Entry.select().count(), from_=5), lambda: ran.append(1)
        )
        self.assertIn("to be 5 before the block, it was 0", message)
        self.assertEqual(ran, [])

    def test_a_wrong_end_value_is_named(self):
        message = self.block_failure(
            self.assertChanges(lambda: Entry.select().count(), to=3),
            lambda: Entry.create(text="x"),
        )
        self.assertIn("expected it to become 3", message)
        self.assertIn("After the block:  1", message)

    def test_a_named_function_is_described_by_its_name(self):
        def entry_count():
            return Entry.select().count()

        message = self.block_failure(self.assertNoChanges(entry_count), lambda: Entry.create(text="x"))
        self.assertIn("entry_count()", message)
        self.assertIn("expected no change", message)

    def test_no_changes_passes_when_the_value_stays(self):
        with self.assertNoChanges(lambda: Entry.select().count()):
            self.client.get("/entries")

    def test_a_value_instead_of_a_callable_is_refused_with_the_fix(self):
        with self.assertRaises(TypeError) as raised:
            with self.assertChanges(Entry.select().count(), by=1):
                pass
        self.assertIn("takes a callable", str(raised.exception))
        self.assertIn("lambda:", str(raised.exception))

    def test_by_on_values_that_do_not_subtract_says_to_use_from_and_to(self):
        entry = Entry.create(text="a")
        with self.assertRaises(TypeError) as raised:
            with self.assertChanges(lambda: Entry.get_by_id(entry.id).text, by=1):
                Entry.update(text="b").execute()
        self.assertIn("use from_= and to=", str(raised.exception))
