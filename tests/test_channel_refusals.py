"""Refused WebSocket connections and subscriptions, and receive timeouts
that code written for Proper's own WebSocketTestSession can catch."""
import unittest

from proper_unittest import AsyncChannelTestCase, override_config
from tests.apps.notes.main import User
from tests.inner import run_inner


APP = "tests.apps.notes.main:app"
CHANNEL = "NotesChannel"
QUICK = 0.05  # seconds to wait for a frame that should not come


class ReceiveTimeoutTests(AsyncChannelTestCase):
    app = APP

    async def test_code_written_for_propers_session_catches_TimeoutError(self):
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="general")
        frames = []
        while True:  # the usual "drain until quiet" loop of a Proper test
            try:
                frames.append(await ws.receive(timeout=QUICK))
            except TimeoutError:
                break
        self.assertEqual(frames, [{"type": "message", "channel": CHANNEL, "params": {"room": "general"},
                                   "data": {"hello": None}}])

    async def test_the_timeout_is_also_an_assertion_error_listing_the_frames(self):
        ws = await self.connect()
        with self.assertRaises(AssertionError) as caught:
            await ws.receive_raw(timeout=QUICK)
        self.assertIsInstance(caught.exception, TimeoutError)
        self.assertIn(f"No frame from the app within {QUICK}s", str(caught.exception))
        self.assertIn("1. {'type': 'websocket.accept'}", str(caught.exception))

    def test_an_uncaught_timeout_is_reported_as_a_failure_not_an_error(self):
        class Inner(AsyncChannelTestCase):
            app = APP

            async def test_waits_for_a_frame_that_never_comes(self):
                ws = await self.connect()
                await ws.subscribe(CHANNEL, room="general")
                await ws.receive()
                await ws.receive(timeout=QUICK)

            async def test_nothing_received_still_passes_on_silence(self):
                ws = await self.connect()
                await self.assertNothingReceived(ws, timeout=QUICK)

        result, output = run_inner(Inner)
        self.assertEqual(result.testsRun, 2, output)
        self.assertEqual(result.errors, [], output)
        self.assertEqual(len(result.failures), 1, output)
        report = result.failures[0][1]
        self.assertIn("ReceiveTimeout: No frame from the app within", report)
        self.assertIn("Frames that arrived on this connection, in order:", report)
        self.assertIn("confirm_subscription", report)


class ConnectionRefusedTests(AsyncChannelTestCase):
    app = APP

    @classmethod
    def setUpTestData(cls):
        cls.ann = User.create(name="ann")

    async def test_a_path_that_is_not_the_cable_is_refused_with_4004(self):
        frame = await self.assertConnectionRefused("/not-the-cable")
        self.assertEqual(frame, {"type": "websocket.close", "code": 4004})
        self.assertEqual((await self.assertConnectionRefused("/nope", code=4004))["code"], 4004)

    @override_config(CABLE_PATH="/ws")
    async def test_the_cable_moved_elsewhere_refuses_the_old_path(self):
        await self.assertConnectionRefused("/cable", code=4004)
        ws = await self.connect()  # the default path follows CABLE_PATH
        self.assertEqual(ws.path, "/ws")

    async def test_rejected_subscription_of_an_anonymous_user(self):
        ws = await self.connect()
        frame = await self.assertSubscriptionRejected(ws, CHANNEL, room="members")
        self.assertEqual(frame, {"type": "reject_subscription", "channel": CHANNEL,
                                 "params": {"room": "members"}})
        self.sign_in(self.ann)
        member = await self.connect()
        self.assertEqual((await member.subscribe(CHANNEL, room="members"))["type"], "confirm_subscription")

    async def test_unknown_channel_is_a_rejected_subscription(self):
        ws = await self.connect()
        frame = await self.assertSubscriptionRejected(ws, "NoSuchChannel")
        self.assertEqual(frame["reason"], "unknown_channel")

    def test_failure_messages(self):
        ann = self.ann

        class Inner(AsyncChannelTestCase):
            app = APP

            async def test_1_accepted(self):
                await self.assertConnectionRefused()

            async def test_2_wrong_code(self):
                await self.assertConnectionRefused("/elsewhere", code=1008)

            async def test_3_subscription_confirmed(self):
                self.sign_in(ann)
                ws = await self.connect()
                await self.assertSubscriptionRejected(ws, CHANNEL, room="members")

            async def test_4_msg(self):
                await self.assertConnectionRefused(msg="the cable must be closed")

        result, output = run_inner(Inner)
        self.assertEqual(result.errors, [], output)
        self.assertEqual(len(result.failures), 4, output)
        accepted, wrong_code, confirmed, with_msg = (text for _, text in result.failures)
        self.assertIn("Expected the app to refuse the WebSocket connection to '/cable', "
                      "but it accepted it.", accepted)
        self.assertIn("Expected the app to refuse the WebSocket connection to '/elsewhere' with code "
                      "1008, but it closed it with code 4004.", wrong_code)
        self.assertIn("Expected the app to reject the subscription to NotesChannel {'room': 'members'}, "
                      "but it answered {'type': 'confirm_subscription'", confirmed)
        self.assertIn("Frames that arrived on this connection", confirmed)
        self.assertIn("the cable must be closed", with_msg)


if __name__ == "__main__":
    unittest.main()
