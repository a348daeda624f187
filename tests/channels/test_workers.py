"""Channel code runs as in production, in a worker thread, sharing the test's connection and
transaction."""
import asyncio
import itertools

from proper_unittest import AsyncChannelTestCase

from tests.support.apps.notes.main import GATES, Gate, Note


APP = "tests.support.apps.notes.main:app"

_gate_names = itertools.count()


def new_gate(test):
    """A Gate for WorkerChannel.hold, opened when `test` ends whatever happens
    (so no worker thread waits on it after the test)."""
    name = f"gate-{next(_gate_names)}"
    gate = GATES[name] = Gate()
    test.addCleanup(GATES.pop, name, None)
    test.addCleanup(gate.opened.set)
    return name, gate


class WorkerThreadTests(AsyncChannelTestCase):
    """Channel code runs as in production, in a worker thread, sharing the
    test's connection and transaction."""

    app = APP

    async def worker_channel(self):
        ws = await self.connect()
        await ws.subscribe("WorkerChannel")
        return ws

    async def test_channel_code_runs_in_a_worker_thread_of_the_test(self):
        ws = await self.worker_channel()
        await ws.send_action("WorkerChannel", "where")
        await self.assertReceives(ws, {"thread": f"proper-worker ({self.id()})"})

    async def test_asyncio_run_works_in_channel_code(self):
        ws = await self.worker_channel()
        await ws.send_action("WorkerChannel", "nested", {"n": 21})
        note = Note.get(Note.title == "nested 42")  # written in the worker, seen here
        await self.assertReceives(ws, {"result": 42, "id": note.id})

    async def test_send_action_gives_up_after_its_timeout_while_the_action_blocks(self):
        name, gate = new_gate(self)
        ws = await self.worker_channel()
        with self.assertRaises(AssertionError) as caught:
            await ws.send_action("WorkerChannel", "hold", {"gate": name, "title": "late"}, timeout=0.2)
        # It gave up while the action was still blocked (not after it).
        self.assertTrue(gate.entered.is_set())
        self.assertFalse(gate.done.is_set())
        message = str(caught.exception)
        self.assertIn("The app did not handle the frame within 0.2s.", message)
        self.assertIn(f"Channel code is still running in the worker thread 'proper-worker ({self.id()})'", message)
        self.assertIn("in hold\n    gate.opened.wait(", message)
        self.assertIn("confirm_subscription", message)  # the frames that did arrive
        gate.opened.set()
        self.assertTrue(await asyncio.to_thread(gate.done.wait, 10))
        # What it wrote after the gate is in this test's transaction.
        self.assertEqual([n.title for n in Note.select()], ["late"])

    async def test_a_receive_that_times_out_says_where_channel_code_is(self):
        name, gate = new_gate(self)
        ws = await self.worker_channel()
        ws.client_send({"command": "message", "channel": "WorkerChannel", "action": "hold",
                        "params": {}, "data": {"gate": name, "then": []}})
        with self.assertRaises(AssertionError) as caught:
            await ws.receive(timeout=0.2)
        self.assertIn("No frame from the app within 0.2s.", str(caught.exception))
        self.assertIn("in hold\n    gate.opened.wait(", str(caught.exception))


class NothingReceivedWaitsForChannelCodeTests(AsyncChannelTestCase):
    """assertNothingReceived watches for its window only once the channel
    code the test started is done: a frame that code sends later is seen."""

    app = APP

    async def worker_channel(self):
        ws = await self.connect()
        await ws.subscribe("WorkerChannel")
        return ws

    def hold(self, ws, gate, seconds, then=("broadcast",)):
        """Start WorkerChannel.hold without waiting: it waits `seconds` at
        `gate` (never opened here), then does `then`."""
        ws.client_send({"command": "message", "channel": "WorkerChannel", "action": "hold",
                        "params": {}, "data": {"gate": gate, "seconds": seconds, "then": list(then)}})

    async def test_a_frame_sent_after_the_window_by_running_channel_code_fails_it(self):
        name, gate = new_gate(self)
        ws = await self.worker_channel()
        self.hold(ws, name, seconds=0.3)
        with self.assertRaises(AssertionError) as caught:
            await self.assertNothingReceived(ws, timeout=0.1)
        self.assertIn(f"Expected no frame, got {{'type': 'message', 'channel': 'WorkerChannel', 'params': {{}}, "
                      f"'data': {{'late': '{name}'}}}}", str(caught.exception))

    async def test_channel_code_still_running_at_the_limit_fails_it_saying_where(self):
        name, gate = new_gate(self)
        ws = await self.worker_channel()
        self.hold(ws, name, seconds=30, then=())
        with self.assertRaises(AssertionError) as caught:
            await self.assertNothingReceived(ws, timeout=0.1)
        message = str(caught.exception)
        self.assertIn("assertNothingReceived waited 1s for the channel code the test started to finish", message)
        self.assertIn("in hold\n    gate.opened.wait(", message)
        gate.opened.set()
        self.assertTrue(await asyncio.to_thread(gate.done.wait, 10))
