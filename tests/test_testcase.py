"""The test case classes: an async test a sync class cannot run fails, every assertion mixin
reaches the async class, and a failure report puts its parts in order."""
import datetime as dt

from proper_unittest import AsyncChannelTestCase, ProperTestCase, ProperTransactionTestCase

from tests.support.apps.journal.main import Entry, index_entry
from tests.support.cases import APP
from tests.support.inner import NotesCase, run_inner


class AsyncTestInASyncClassTests(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_an_async_test_in_ProperTestCase_fails_naming_the_class_to_use(self):
        ran = []

        class Inner(NotesCase):
            async def test_never_awaited(self):
                ran.append(True)

        result, _ = run_inner(Inner)
        self.assertEqual((result.testsRun, len(result.failures), len(result.errors)), (1, 1, 0))
        message = result.failures[0][1]
        self.assertIn("test_never_awaited is an async test, which Inner (a ProperTestCase) cannot run", message)
        self.assertIn("Make the class an AsyncChannelTestCase", message)
        self.assertEqual(ran, [])

    def test_a_sync_test_still_passes(self):
        class Inner(NotesCase):
            def test_plain(self):
                pass

        result, _ = run_inner(Inner)
        self.assertTrue(result.wasSuccessful())


class AsyncTestInATransactionClassTests(ProperTransactionTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_in_ProperTransactionTestCase_too(self):
        class Inner(ProperTransactionTestCase):
            app = "tests.support.apps.notes.main:app"

            async def test_never_awaited(self):
                pass

        result, _ = run_inner(Inner)
        self.assertEqual(len(result.failures), 1)
        self.assertIn("(a ProperTransactionTestCase)", result.failures[0][1])


class ReportOrderTests(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_message_then_the_log_then_the_flight_recorder(self):
        class Inner(NotesCase):
            def test_fails(self):
                self.client.get("/boom")
                self.fail("the message")

        result, _ = run_inner(Inner)
        report = result.failures[0][1]
        positions = [report.find(part) for part in (
            "AssertionError: the message", "Logged during this test (proper, huey):",
            "---- Flight recorder: what this test did ----",
        )]
        self.assertNotIn(-1, positions, report)
        self.assertEqual(positions, sorted(positions), report)


UTC = dt.timezone.utc


class AsyncAssertionTests(AsyncChannelTestCase):
    """The same assertions in an async test case, with the async client."""

    app = APP

    async def test_changes_tasks_broadcasts_and_templates(self):
        with self.assertChanges(lambda: Entry.select().count(), by=1):
            result = await self.client.post("/entries", body={"text": "async"}, follow_redirects=True)
        entry = Entry.get()
        self.assertRedirects(result, f"/entries/{entry.id}")
        self.assertTemplateUsed(result, "entries/show.jx")
        self.assertEnqueued(index_entry, args=(entry.id,))
        self.assertBroadcastOn("entries", {"id": entry.id, "text": "async"})
        with self.assertRaises(AssertionError) as raised:
            self.assertBroadcasts("entries", 2)
        self.assertIn("Expected 2 broadcast(s) on 'entries', 1 sent", str(raised.exception))

    async def test_follow_is_awaited_with_the_async_client(self):
        first = await self.client.get("/hop/1")
        second = await first.follow()
        self.assertEqual(second.redirect_chain, [("/hop/0", 303)])

    async def test_time_travel_reaches_async_requests(self):
        self.travel_to(dt.datetime(2032, 3, 4, tzinfo=UTC))
        result = await self.client.get("/now")
        self.assertEqual(result.body, "2032-03-04T00:00:00+00:00")

    async def test_run_enqueued_in_an_async_test(self):
        with self.captureTasks():
            await self.client.post("/entries", body={"text": "later"})
        self.runEnqueued()
        self.assertEqual(Entry.get().text, "later [indexed:new]")
