"""The per-test savepoint is established once per class and every test ends
with only ``ROLLBACK TO`` it: each test must still start from exactly the
class's data, on every backend, whatever the test did to the transaction."""
import unittest

import peewee as pw

from proper_unittest import AsyncChannelTestCase
from tests.apps.notes.main import Note, db
from tests.inner import NotesCase, run_inner
from tests.test_leaks import committed_rows, errors_by_test


def titles():
    return sorted(note.title for note in Note.select())


class KeptSavepointTests(unittest.TestCase):
    """Run from a plain TestCase: some inner tests end the transaction."""

    def test_every_test_starts_from_the_class_data_whatever_it_left_open(self):
        class Many(NotesCase):
            @classmethod
            def setUpClass(cls):
                super().setUpClass()
                Note.create(title="set up after super")  # kept for every test

            @classmethod
            def setUpTestData(cls):
                Note.create(title="class data")

            def check_and_write(self):
                self.assertEqual(titles(), ["class data", "set up after super"])
                Note.create(title=self._testMethodName)
                self.client.post("/notes", body={"title": f"{self._testMethodName} by request"})

            def test_1_app_atomic_nests_as_a_savepoint(self):
                self.check_and_write()
                with db.atomic() as outer:
                    self.assertIsInstance(outer, pw._savepoint)
                    Note.create(title="kept by the test")
                    with self.assertRaises(ZeroDivisionError), db.atomic():
                        Note.create(title="undone by atomic")
                        1 / 0
                self.assertIn("kept by the test", titles())
                self.assertNotIn("undone by atomic", titles())

            def test_2_leaves_an_atomic_block_open(self):
                self.check_and_write()
                db.atomic().__enter__()
                Note.create(title="inside the stray block")

            def test_3_leaves_a_failed_request_behind(self):
                self.check_and_write()
                self.client.post("/notes", body={"title": "dup"})
                self.assertEqual(self.client.post("/notes", body={"title": "dup"}).status, 500)

            def test_4_sub_tests(self):
                self.check_and_write()
                for n in range(3):
                    with self.subTest(n=n):
                        self.assertNotIn("sub-test", titles())
                        Note.create(title="sub-test")
                    Note.create(title=f"between {n}")  # the test's own rows stay
                self.assertEqual(
                    [t for t in titles() if t.startswith("between")], ["between 0", "between 1", "between 2"]
                )

            def test_5_reads(self):
                self.check_and_write()

        result, output = run_inner(Many)
        self.assertEqual(result.testsRun, 5, output)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(committed_rows(Note), 0, output)
        self.assertFalse(db.in_transaction())
        self.assertEqual(db.transaction_depth(), 0)

    def test_after_a_test_ends_the_transaction_the_next_ones_are_isolated_again(self):
        class Ends(NotesCase):
            @classmethod
            def setUpTestData(cls):
                Note.create(title="class data")

            def test_1_writes(self):
                Note.create(title="one")

            def test_2_commits(self):
                self.assertEqual(titles(), ["class data"])
                Note.create(title="committed")
                db.commit()

            def test_3_writes(self):
                self.assertEqual(titles(), ["class data"])  # reloaded, new savepoint
                Note.create(title="three")

            def test_4_reads(self):
                self.assertEqual(titles(), ["class data"])

        result, output = run_inner(Ends)
        self.assertEqual(result.testsRun, 4, output)
        errors = errors_by_test(result)
        self.assertEqual(list(errors), ["test_2_commits"], output)
        self.assertIn("ended the transaction", errors["test_2_commits"][0])
        self.assertEqual(result.failures, [], output)
        self.assertEqual(committed_rows(Note), 0, output)
        self.assertFalse(db.in_transaction())

    def test_async_tests_share_the_kept_savepoint(self):
        class Async(AsyncChannelTestCase):
            app = "tests.apps.notes.main:app"

            @classmethod
            def setUpTestData(cls):
                Note.create(title="class data")

            async def test_1_writes(self):
                self.assertEqual(titles(), ["class data"])
                await self.client.post("/notes", body={"title": "async one"})
                Note.create(title="direct")

            async def test_2_reads(self):
                self.assertEqual(titles(), ["class data"])

        result, output = run_inner(Async, NotesCase)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(result.testsRun, 2, output)
        self.assertEqual(committed_rows(Note), 0, output)
