"""Work a test leaves running (tasks, threads, channel code) is named and refused from then on."""
import asyncio
import unittest

from proper_unittest import AsyncChannelTestCase

from tests.support.inner import run_inner


def left_running_classes(events):
    """Test classes that leave work behind (made here: discovery never runs them)."""
    from tests.support.apps.notes.main import Note

    class LeavesASessionOpen(AsyncChannelTestCase):
        app = "tests.support.apps.notes.main:app"

        async def test_1_leaves_it_open(self):
            ws = self.client.websocket()
            await ws.connect()
            await ws.subscribe("GoodbyeChannel")
            self.assertEqual(self.app.cable.streams.get("goodbye"), 1)

        async def test_2_starts_clean(self):
            events.append(("rows", Note.select().count()))
            events.append(("listeners", self.app.cable.streams.get("goodbye")))

    class LeavesATaskRunning(AsyncChannelTestCase):
        app = "tests.support.apps.notes.main:app"

        async def test_1_leaves_it_running(self):
            async def write_later():
                try:
                    await asyncio.sleep(0.2)
                    Note.create(title="written late")
                except asyncio.CancelledError:
                    events.append(("cancelled", True))
                    raise

            asyncio.create_task(write_later())

        async def test_2_starts_clean(self):
            await asyncio.sleep(0.3)
            events.append(("rows", Note.select().count()))

    class LeavesAStubbornTask(AsyncChannelTestCase):
        app = "tests.support.apps.notes.main:app"

        async def test_refuses_the_first_cancel(self):
            async def stubborn():
                try:
                    await asyncio.sleep(30)
                except asyncio.CancelledError:
                    await asyncio.sleep(3)  # ends when cancelled again, by unittest's loop close

            asyncio.create_task(stubborn(), name="stubborn-writer")

    class LeavesChannelCodeRunning(AsyncChannelTestCase):
        app = "tests.support.apps.notes.main:app"

        async def test_1_leaves_it_running(self):
            gate = events["gate"]
            ws = await self.connect()
            await ws.subscribe("WorkerChannel")
            ws.client_send({"command": "message", "channel": "WorkerChannel", "action": "hold", "params": {},
                            "data": {"gate": events["gate name"], "then": ["broadcast", "write"]}})
            self.assertTrue(await asyncio.to_thread(gate.entered.wait, 10))

        async def test_2_starts_clean(self):
            gate = events["gate"]
            listener = await self.connect()
            await listener.subscribe("WorkerChannel")
            Note.create(title="test 2's own")
            gate.opened.set()  # the first test's channel code goes on now
            events["finished"] = await asyncio.to_thread(gate.done.wait, 10)
            await self.assertNothingReceived(listener)
            events["rows"] = [note.title for note in Note.select()]
            events["broadcasts"] = list(self.broadcasts)
            events["refused"] = [f"{type(error).__name__}: {error}" for error in gate.errors]

    return LeavesASessionOpen, LeavesATaskRunning, LeavesAStubbornTask, LeavesChannelCodeRunning


class LeftRunningTests(unittest.TestCase):
    """Outside any test transaction: the inner classes open their own."""

    def test_a_session_left_open_is_closed_inside_its_test(self):
        events = []
        result, output = run_inner(left_running_classes(events)[0])
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(events, [("rows", 0), ("listeners", None)])

    def test_a_task_left_running_is_cancelled_inside_its_test_which_it_fails(self):
        events = []
        result, output = run_inner(left_running_classes(events)[1])
        # The test's own code never finished: a failure of that test alone.
        self.assertEqual((result.testsRun, len(result.failures), len(result.errors)), (2, 1, 0), output)
        self.assertIn("test_1_leaves_it_running", result.failures[0][0].id())
        self.assertIn("write_later) was still running", result.failures[0][1])
        self.assertEqual(events, [("cancelled", True), ("rows", 0)])

    def test_a_task_that_will_not_end_is_an_error_of_its_test_named(self):
        result, output = run_inner(left_running_classes([])[2])
        self.assertEqual(len(result.errors), 1, output)
        test, report = result.errors[0]
        self.assertIn(f"The test {test.id()} left work running", report)
        self.assertIn("the task stubborn-writer", report)
        self.assertIn("did not end within 1s of being cancelled", report)


class ChannelCodeLeftRunningTests(unittest.TestCase):
    """Channel code still running in its worker thread when its test ends:
    named, and refused from then on (outside any test transaction: the
    inner classes open their own)."""

    def test_it_is_an_error_of_its_test_and_nothing_reaches_the_next_test(self):
        from tests.support.apps.notes.main import GATES, Gate

        events = {"gate name": "left-running", "gate": Gate()}
        GATES["left-running"] = events["gate"]
        self.addCleanup(GATES.pop, "left-running", None)
        self.addCleanup(events["gate"].opened.set)
        result, output = run_inner(left_running_classes(events)[3])
        self.assertEqual((result.testsRun, len(result.failures), len(result.errors)), (2, 0, 1), output)
        test, report = result.errors[0]
        self.assertTrue(test.id().endswith("test_1_leaves_it_running"), test.id())
        self.assertIn(f"LeftRunning: The test {test.id()} left channel code running in a worker thread: "
                      "it was still running 1s after the test ended", report)
        self.assertIn(f"Channel code is still running in the worker thread 'proper-worker ({test.id()})'", report)
        self.assertIn("in hold\n    gate.opened.wait(", report)
        self.assertTrue(events["finished"])
        # Its broadcast and its write came during the next test: both refused.
        self.assertEqual(events["rows"], ["test 2's own"])
        self.assertEqual(events["broadcasts"], [])
        self.assertEqual(len(events["refused"]), 2, events["refused"])
        broadcast, write = events["refused"]
        refusal = (f"was refused: this channel code (thread 'proper-worker ({test.id()})') outlived the "
                   f"test {test.id()}, which was rolled back without it")
        self.assertIn("LeftRunning: The broadcast to 'worker' " + refusal, broadcast)
        self.assertIn(refusal, write)
        self.assertTrue(write.startswith("LeftRunning: "), write)
