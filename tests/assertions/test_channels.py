"""The channel assertions: refused connections and subscriptions, and what assertReceives says
when the frame does not come."""
from proper_unittest import AsyncChannelTestCase, override_config

from tests.support.apps.notes.main import User
from tests.support.inner import run_inner
from tests.support.outcomes import failure_of
from tests.support.outcomes import failures_of


APP = "tests.support.apps.notes.main:app"
CHANNEL = "NotesChannel"


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


QUICK = 0.05  # seconds to wait for a frame that should not come


class ReceiveFailureTests(AsyncChannelTestCase):
    app = APP

    async def test_receive_timeout_lists_the_frames_that_arrived(self):
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="general")
        await ws.receive()  # the hello
        message = await failure_of(ws.receive(timeout=QUICK))
        self.assertIn(f"No frame from the app within {QUICK}s", message)
        self.assertIn("Frames that arrived on this connection, in order:", message)
        self.assertIn("confirm_subscription", message)
        self.assertIn("'hello': None", message)

    async def test_receive_timeout_with_nothing_at_all(self):
        ws = await self.connect()
        message = await failure_of(ws.receive_message(timeout=QUICK))
        self.assertIn(f"No frame from the app within {QUICK}s", message)
        self.assertIn("1. {'type': 'websocket.accept'}", message)
        self.assertNotIn("2.", message)

    async def test_receive_message_rejects_other_frames(self):
        ws = await self.connect()
        ws.client_send({"command": "message", "channel": CHANNEL, "action": "post", "params": {}})
        with self.assertRaises(AssertionError) as caught:
            await ws.receive_message()
        self.assertIn("Expected a message frame, got {'type': 'error', 'reason': 'not_subscribed'}",
                      str(caught.exception))

    async def test_assertNothingReceived_passes_on_silence(self):
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="general")
        await ws.receive()
        await self.assertNothingReceived(ws, timeout=QUICK)

    def test_failure_messages_users_see(self):
        # Runs async test classes, which need their own event loop: this
        # test is sync.
        class Inner(AsyncChannelTestCase):
            app = APP

            async def test_1_receives_wrong_data(self):
                ws = await self.connect()
                await ws.subscribe(CHANNEL, room="general")
                await self.assertReceives(ws, {"hello": "somebody"})

            async def test_2_something_was_received(self):
                ws = await self.connect()
                await ws.subscribe(CHANNEL, room="general")
                await self.assertNothingReceived(ws, timeout=QUICK)

            async def test_3_times_out(self):
                ws = await self.connect()
                await ws.subscribe(CHANNEL, room="general")
                await ws.receive()
                await self.assertReceives(ws, {"title": "never sent"}, timeout=QUICK)

        wrong, unexpected, timeout = failures_of(self, run_inner(Inner), 3)
        self.assertIn("Expected message data {'hello': 'somebody'}, got {'hello': None}", wrong)
        self.assertIn("Frames that arrived on this connection", wrong)
        self.assertIn("Expected no frame, got {'type': 'message'", unexpected)
        self.assertIn(f"No frame from the app within {QUICK}s", timeout)
        self.assertIn("Frames that arrived on this connection", timeout)
        self.assertIn("confirm_subscription", timeout)
