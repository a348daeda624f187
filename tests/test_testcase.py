"""The test case classes: an async test a sync class cannot run fails, every assertion mixin
reaches the async class, a failure report puts its parts in order, and a finished test
lets go of what it made."""
import asyncio
import datetime as dt
import gc
import inspect
import unittest
import warnings
import weakref

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


class FinishedTestLetsGoTests(unittest.TestCase):
    """A runner may keep a finished test object (a forked worker's copy of
    its parent's list does, and a result keeps each failed one): the
    clients and channel workers made for it are freed all the same, and
    what its app logged is not kept for the class's next test (an error's
    traceback holds the request's frames, so its client). A plain TestCase:
    a ProperTestCase around the inner one would keep what the inner app
    logs until its own test ends (as pytest's log capture does)."""

    def test_a_passed_and_a_failed_test_keep_no_client_nor_workers(self):
        made, tests = {}, []

        def note(test):
            made[test.id()] = {name: weakref.ref(value) for name, value in vars(test).items()
                                if name in ("client", "_async_client", "_channel_workers", "_undo")}
            tests.append(test)

        class Inner(NotesCase):
            def test_fails(self):
                self.client.get("/notes")
                note(self)
                self.fail("on purpose")

            def test_passes(self):
                self.client.get("/notes")
                self.async_client.default_headers  # the async client is made on first use
                note(self)

        result, _ = run_inner(Inner)
        self.assertEqual((result.testsRun, len(result.failures)), (2, 1), result.errors)
        self.assertEqual(sorted(made[tests[0].id()]), ["_channel_workers", "_undo", "client"])
        self.assertEqual(sorted(made[tests[1].id()]), ["_async_client", "_channel_workers", "_undo", "client"])
        gc.collect()
        for test in tests:  # held here, as a runner may hold them
            with self.subTest(test=test.id()):
                alive = [name for name, ref in made[test.id()].items() if ref() is not None]
                self.assertEqual(alive, [], f"{test.id()} still holds {alive} after it finished")
                self.assertFalse(hasattr(test, "client"))

    def test_what_the_app_logged_is_not_kept_after_the_test(self):
        class Inner(NotesCase):
            def test_logs_an_error(self):  # the class's last test: nothing after it clears its log
                self.assertEqual(self.client.get("/nowhere").status, 404)
                self.assertTrue(self._app_log.records)  # the 404's MatchNotFound, with its traceback

        result, _ = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), result.failures + result.errors)
        self.assertEqual((Inner._app_log.records, Inner._app_log.tracebacks), ([], []))


NOTES = "tests.support.apps.notes.main:app"


def run_inner_quietly(*test_classes):
    """run_inner, also returning the RuntimeWarnings ("never awaited") the
    run left, collected before the warnings are put back."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result, output = run_inner(*test_classes)
        gc.collect()  # a coroutine nobody closed warns when it is collected
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return result, output, runtime


class UnawaitedLibraryCallTests(ProperTestCase):
    """An async assertion or helper of the library called without ``await``
    fails its test, instead of passing with a RuntimeWarning."""

    app = NOTES

    def test_each_async_assertion_and_helper_without_await_fails_its_test(self):
        class Inner(AsyncChannelTestCase):
            app = NOTES

            async def test_assertReceives(self):
                ws = await self.connect()
                self.assertReceives(ws, {"never": "sent"})

            async def test_assertNothingReceived(self):
                ws = await self.connect()
                await ws.subscribe("NotesChannel", room="general")
                self.assertNothingReceived(ws)  # the hello message did come

            async def test_assertSubscriptionRejected(self):
                ws = await self.connect()
                self.assertSubscriptionRejected(ws, "NotesChannel", room="general")

            async def test_assertConnectionRefused(self):
                self.assertConnectionRefused()

            async def test_connect(self):
                self.connect()

        result, output, warned = run_inner_quietly(Inner)
        self.assertEqual((result.testsRun, len(result.failures), len(result.errors)), (5, 5, 0), output)
        for test, report in result.failures:
            name = test.id().rsplit(".test_", 1)[1]
            with self.subTest(name):
                self.assertIn(f"- self.{name}(...) (at {__file__}:", report)
                self.assertIn("was called without await, so it never ran", report)
                self.assertIn("Write await before each call", report)
        self.assertEqual(warned, [])  # closed by the library: no "never awaited" warning too

    def test_one_made_in_asyncTearDown_fails_the_test_too(self):
        class Inner(AsyncChannelTestCase):
            app = NOTES

            async def asyncTearDown(self):
                self.connect()

            async def test_passes_itself(self):
                pass

        result, output, warned = run_inner_quietly(Inner)
        self.assertEqual((len(result.failures), len(result.errors)), (1, 0), output)
        self.assertIn("- self.connect(...) (at ", result.failures[0][1])
        self.assertEqual(warned, [])

    def test_awaited_assertions_and_a_coroutine_awaited_later_still_pass(self):
        class Inner(AsyncChannelTestCase):
            app = NOTES

            async def test_awaited(self):
                ws = await self.connect()
                await ws.subscribe("NotesChannel", room="general")
                later = self.assertReceives(ws, {"hello": None})
                await asyncio.wait_for(later, 1)
                await self.assertNothingReceived(ws, timeout=0.01)

        result, output, warned = run_inner_quietly(Inner)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(warned, [])


class UnretrievedTaskErrorTests(ProperTestCase):
    """A task the test made that failed, and whose exception nothing
    retrieved, fails (or errors) its test instead of being only logged."""

    app = NOTES

    def test_a_failure_or_an_error_in_a_task_is_the_tests(self):
        class Inner(AsyncChannelTestCase):
            app = NOTES

            async def test_failure_in_a_task(self):
                async def check():
                    self.fail("from the task")

                asyncio.create_task(check(), name="checker")
                await asyncio.sleep(0)

            async def test_error_in_a_task(self):
                async def crash():
                    raise ValueError("the task crashed")

                asyncio.create_task(crash(), name="crasher")
                await asyncio.sleep(0.01)

        with self.assertNoLogs("asyncio", "ERROR"):  # reported once, by the test
            result, output, _ = run_inner_quietly(Inner)
        self.assertEqual((result.testsRun, len(result.failures), len(result.errors)), (2, 1, 1), output)
        failure, error = result.failures[0][1], result.errors[0][1]
        self.assertIn("the task checker (", failure)
        self.assertIn("check) raised:", failure)
        self.assertIn("AssertionError: from the task", failure)
        self.assertIn("the task crasher (", error)
        self.assertIn('raise ValueError("the task crashed")', error)  # its traceback
        self.assertIn("ValueError: the task crashed", error)

    def test_a_task_whose_exception_the_test_retrieved_is_not_reported(self):
        class Inner(AsyncChannelTestCase):
            app = NOTES

            async def test_retrieved(self):
                async def crash():
                    raise ValueError("expected")

                awaited = asyncio.create_task(crash())
                with self.assertRaises(ValueError):
                    await awaited
                asked = asyncio.create_task(crash())
                await asyncio.wait([asked])
                self.assertIsInstance(asked.exception(), ValueError)
                cancelled = asyncio.create_task(asyncio.sleep(10))
                await asyncio.sleep(0)
                cancelled.cancel()
                self.assertRegex(cancelled.get_name(), r"^Task-\d+$")  # watching keeps the default name

        result, output, _ = run_inner_quietly(Inner)
        self.assertTrue(result.wasSuccessful(), output)


class UnfinishedTaskTests(ProperTestCase):
    """A task running the test's own code, or a library check, that is
    still running when the test ends fails the test: the end of the test
    cancels it, so what it checks would never be checked."""

    app = NOTES

    def test_a_check_left_running_in_a_task_fails_its_test(self):
        class Inner(AsyncChannelTestCase):
            app = NOTES

            async def test_own_coroutine(self):
                async def check_later():
                    await asyncio.sleep(10)
                    self.fail("never reached")

                asyncio.create_task(check_later(), name="late-check")
                await asyncio.sleep(0)

            async def test_library_check_in_a_task(self):
                ws = await self.connect()
                asyncio.create_task(self.assertReceives(ws, {"never": "sent"}, timeout=5), name="receiver")

            async def test_started_in_asyncSetUp_too(self):
                pass

            async def asyncSetUp(self):
                if self._testMethodName == "test_started_in_asyncSetUp_too":
                    async def watch():
                        await asyncio.Event().wait()

                    asyncio.create_task(watch(), name="watcher")

        result, output, warned = run_inner_quietly(Inner)
        self.assertEqual((result.testsRun, len(result.failures), len(result.errors)), (3, 3, 0), output)
        reports = {test.id().rsplit(".", 1)[1]: report for test, report in result.failures}
        own = reports["test_own_coroutine"]
        self.assertIn("ended while tasks running its checks had not finished", own)
        self.assertIn("- the task late-check (", own)
        self.assertIn(f"check_later) was still running at {__file__}:", own)
        self.assertIn("Await each task inside the test", own)
        self.assertIn("- the task receiver (", reports["test_library_check_in_a_task"])
        self.assertIn("assertReceives) was still running", reports["test_library_check_in_a_task"])
        self.assertIn("- the task watcher (", reports["test_started_in_asyncSetUp_too"])
        self.assertEqual(warned, [])

    def test_finished_cancelled_and_foreign_tasks_pass(self):
        class Inner(AsyncChannelTestCase):
            app = NOTES

            async def test_awaited_and_gathered(self):
                async def check():
                    await asyncio.sleep(0)
                    return 1

                task = asyncio.create_task(check())
                self.assertEqual(await task, 1)
                self.assertEqual(await asyncio.gather(check(), check()), [1, 1])

            async def test_cancelled_by_the_test(self):
                async def forever():
                    await asyncio.Event().wait()

                asyncio.create_task(forever()).cancel()

            async def test_code_of_others_left_to_the_end(self):
                asyncio.create_task(asyncio.sleep(10))  # not the test's code: cancelled quietly

        result, output, warned = run_inner_quietly(Inner)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(result.testsRun, 3)
        self.assertEqual(warned, [])


class TestMethodShapeTests(ProperTestCase):
    """A test method whose body would never run (a generator, an async test
    a sync class cannot run, a plain def returning a coroutine) fails."""

    app = NOTES

    def test_a_generator_test_fails_in_ProperTestCase_and_AsyncChannelTestCase(self):
        ran = []

        class InSync(NotesCase):
            def test_generator(self):
                ran.append(self)
                yield

        class InAsync(AsyncChannelTestCase):
            app = NOTES

            def test_generator(self):
                ran.append(self)
                yield

            async def test_async_generator(self):
                ran.append(self)
                yield

        result, output, warned = run_inner_quietly(InSync, InAsync)
        self.assertEqual((result.testsRun, len(result.failures), len(result.errors)), (3, 3, 0), output)
        for test, report in result.failures:
            with self.subTest(test.id()):
                kind = "an async generator" if "async_generator" in test.id() else "a generator"
                self.assertIn(f"test_{test.id().rsplit('.test_', 1)[1]} is {kind} function", report)
                self.assertIn("its body never ran", report)
                self.assertIn("yield", report)
        self.assertEqual(ran, [])

    def test_an_expected_failure_cannot_hide_a_test_whose_body_never_runs(self):
        # Found before the set-up, so expectedFailure has no failure to take:
        # a generator, an async def, a function marked as a coroutine one.
        ran = []

        def marked(self):
            async def check():
                ran.append(self)
            return check()

        class Inner(NotesCase):
            @unittest.expectedFailure
            def test_generator(self):
                ran.append(self)
                yield

            @unittest.expectedFailure
            async def test_async(self):
                ran.append(self)

            test_marked = unittest.expectedFailure(inspect.markcoroutinefunction(marked))

        result, output, _ = run_inner_quietly(Inner)
        self.assertEqual((result.testsRun, len(result.failures), len(result.expectedFailures)), (3, 3, 0), output)
        self.assertEqual(ran, [])

    def test_a_plain_def_returning_a_coroutine_fails_in_the_async_class(self):
        ran = []

        class Inner(AsyncChannelTestCase):
            app = NOTES

            def test_returns_a_coroutine(self):
                return self._check()

            async def _check(self):
                ran.append(True)

        result, output, warned = run_inner_quietly(Inner)
        self.assertEqual((len(result.failures), len(result.errors)), (1, 0), output)
        report = result.failures[0][1]
        self.assertIn("test_returns_a_coroutine is a plain def that returned a coroutine", report)
        self.assertIn("nothing awaited it", report)
        self.assertIn("make the test async def", report)
        self.assertEqual((ran, warned), ([], []))

    def test_an_expected_failure_async_test_in_a_sync_class_is_still_red(self):
        class Inner(NotesCase):
            @unittest.expectedFailure
            async def test_async(self):
                pass

        result, output, _ = run_inner_quietly(Inner)
        self.assertEqual((len(result.failures), len(result.expectedFailures)), (1, 0), output)
        self.assertIn("test_async is an async test, which Inner (a ProperTestCase) cannot run",
                      result.failures[0][1])


class TestMethodShapeInTransactionTests(ProperTransactionTestCase):
    app = NOTES

    def test_a_generator_test_fails_in_ProperTransactionTestCase(self):
        class Inner(ProperTransactionTestCase):
            app = NOTES

            def test_generator(self):
                yield

        result, output, _ = run_inner_quietly(Inner)
        self.assertEqual((len(result.failures), len(result.errors)), (1, 0), output)
        self.assertIn("test_generator is a generator function", result.failures[0][1])
