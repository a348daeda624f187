"""AsyncChannelTestCase's connections to the app's cable: subscriptions, actions, broadcasts,
database errors, receive timeouts, and teardown."""
import asyncio

from proper_unittest import AsyncChannelTestCase, ErrorReply, ProperTestCase

from tests.support.apps.notes.main import Note, User
from tests.support.inner import run_inner


APP = "tests.support.apps.notes.main:app"
CHANNEL = "NotesChannel"
QUICK = 0.05  # seconds to wait for a frame that should not come
CONFIRM_GENERAL = {"type": "confirm_subscription", "channel": CHANNEL, "params": {"room": "general"}}


class SubscribeTests(AsyncChannelTestCase):
    app = APP

    @classmethod
    def setUpTestData(cls):
        cls.ann = User.create(name="ann")

    async def test_subscribe_returns_the_confirmation_not_the_accept(self):
        ws = await self.connect()
        self.assertTrue(ws.is_open)
        confirm = await ws.subscribe(CHANNEL, room="general")
        self.assertEqual(confirm, CONFIRM_GENERAL)

    async def test_a_message_from_subscribed_is_still_received_afterwards(self):
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="general")
        frame = await ws.receive()
        self.assertEqual(frame, {"type": "message", "channel": CHANNEL, "params": {"room": "general"},
                                 "data": {"hello": None}})
        await self.assertNothingReceived(ws, timeout=QUICK)

    async def test_anonymous_user_is_none_in_the_channel(self):
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="general")
        await self.assertReceives(ws, {"hello": None})

    async def test_signed_in_user_reaches_the_channel_through_the_cookie(self):
        self.sign_in(self.ann)
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="general")
        await self.assertReceives(ws, {"hello": "ann"})

    async def test_sign_out_before_connecting_is_anonymous_again(self):
        self.sign_in(self.ann)
        self.sign_out()
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="general")
        await self.assertReceives(ws, {"hello": None})

    async def test_each_connection_carries_its_own_user(self):
        anonymous = await self.connect()
        self.sign_in(self.ann)
        signed_in = await self.connect()
        await anonymous.subscribe(CHANNEL, room="general")
        await signed_in.subscribe(CHANNEL, room="general")
        await self.assertReceives(anonymous, {"hello": None})
        await self.assertReceives(signed_in, {"hello": "ann"})

    async def test_reject(self):
        ws = await self.connect()
        answer = await ws.subscribe(CHANNEL, room="closed")
        self.assertEqual(answer, {"type": "reject_subscription", "channel": CHANNEL,
                                  "params": {"room": "closed"}})
        await self.assertNothingReceived(ws, timeout=QUICK)
        self.assertNotIn("room:closed", self.app.cable.streams)
        self.assertEqual(ws.subscriptions, {})

    async def test_unknown_channel_is_rejected(self):
        ws = await self.connect()
        answer = await ws.subscribe("NoSuchChannel", room="x")
        self.assertEqual(answer["type"], "reject_subscription")
        self.assertEqual(answer["reason"], "unknown_channel")

    async def test_subscribe_opens_the_stream_and_unsubscribe_closes_it(self):
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="general")
        self.assertEqual(self.app.cable.streams.get("room:general"), 1)
        await ws.unsubscribe(CHANNEL, room="general")
        self.assertNotIn("room:general", self.app.cable.streams)
        self.assertEqual(ws.subscriptions, {CHANNEL: []})

    async def test_connect_to_a_path_that_is_not_the_cable(self):
        with self.assertRaises(AssertionError) as caught:
            await self.connect("/not-the-cable")
        message = str(caught.exception)
        self.assertIn("did not accept the WebSocket connection to '/not-the-cable'", message)
        self.assertIn("websocket.close", message)

    async def test_close_twice_is_safe(self):
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="general")
        await ws.close()
        self.assertFalse(ws.is_open)
        self.assertNotIn("room:general", self.app.cable.streams)
        await ws.close()


class ActionsTests(AsyncChannelTestCase):
    app = APP

    async def subscribed(self, room="general"):
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room=room)
        await self.assertReceives(ws, {"hello": None})
        return ws

    async def test_send_action_runs_the_action_in_the_test_transaction(self):
        ws = await self.subscribed()
        await ws.send_action(CHANNEL, "post", {"title": "from the channel"}, room="general")
        # No sleep: the action has run when send_action returns, in the
        # worker thread, on the test's connection, so the uncommitted row is
        # visible here.
        note = Note.get(Note.title == "from the channel")
        await self.assertReceives(ws, {"title": "from the channel", "id": note.id})
        listing = await self.client.get("/notes")
        self.assertEqual(listing.body, "from the channel")

    async def test_send_action_without_params_uses_the_only_subscription(self):
        ws = await self.subscribed(room="kitchen")
        await ws.send_action(CHANNEL, "post", {"title": "implicit params"})
        note = Note.get(Note.title == "implicit params")
        frame = await ws.receive()
        self.assertEqual(frame["params"], {"room": "kitchen"})
        self.assertEqual(frame["data"], {"title": "implicit params", "id": note.id})

    async def test_send_action_with_two_subscriptions_needs_params(self):
        ws = await self.subscribed(room="a")
        await ws.subscribe(CHANNEL, room="b")
        await self.assertReceives(ws, {"hello": None})
        with self.assertRaises(ErrorReply) as caught:
            await ws.send_action(CHANNEL, "post", {"title": "ambiguous"})
        self.assertIn("{'type': 'error', 'reason': 'not_subscribed'}", str(caught.exception))
        self.assertIn(f"This connection has 2 subscriptions to {CHANNEL}", str(caught.exception))
        self.assertEqual(Note.select().count(), 0)
        await ws.send_action(CHANNEL, "post", {"title": "to b"}, room="b")
        frame = await ws.receive()
        self.assertEqual((frame["params"], frame["data"]["title"]), ({"room": "b"}, "to b"))

    async def test_action_on_a_rejected_subscription(self):
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="closed")
        with self.assertRaises(ErrorReply) as caught:
            await ws.send_action(CHANNEL, "post", {"title": "nope"}, room="closed")
        self.assertIn("The app answered the action 'post' on NotesChannel {'room': 'closed'} with an error: "
                      "{'type': 'error', 'reason': 'not_subscribed'}", str(caught.exception))
        reply = await ws.send_action(CHANNEL, "post", {"title": "nope"}, room="closed", expect_error=True)
        self.assertEqual(reply, {"type": "error", "reason": "not_subscribed"})
        await self.assertNothingReceived(ws, timeout=QUICK)  # the reply is not left for receive()
        self.assertEqual(Note.select().count(), 0)

    async def test_assertReceives_checks_the_channel_and_params_when_given(self):
        ws = await self.subscribed(room="a")
        await ws.subscribe(CHANNEL, room="b")
        await self.assertReceives(ws, {"hello": None}, channel=CHANNEL, params={"room": "b"})
        await ws.send_action(CHANNEL, "post", {"title": "to b"}, room="b")
        expected = {"title": "to b", "id": Note.get().id}
        with self.assertRaises(AssertionError) as caught:
            await self.assertReceives(ws, expected, channel=CHANNEL, params={"room": "a"})
        self.assertIn(f"Expected message data {expected!r} on NotesChannel {{'room': 'a'}}, "
                      f"got {expected!r} on NotesChannel {{'room': 'b'}}.", str(caught.exception))
        await ws.send_action(CHANNEL, "post", {"title": "to b again"}, room="b")
        again = {"title": "to b again", "id": Note.get(Note.title == "to b again").id}
        with self.assertRaises(AssertionError) as caught:
            await self.assertReceives(ws, again, channel="ChatChannel")
        self.assertIn(f"Expected message data {again!r} on ChatChannel, got {again!r} on NotesChannel "
                      "{'room': 'b'}.", str(caught.exception))

    async def test_assertReceives_compares_as_json_does_a_bool_is_not_a_number(self):
        ws = await self.subscribed(room="general")
        self.app.cable.broadcast("room:general", {"ok": 1, "n": 2})
        with self.assertRaises(AssertionError) as caught:
            await self.assertReceives(ws, {"ok": True, "n": 2})
        self.assertIn("Expected message data {'ok': True, 'n': 2}, got {'ok': 1, 'n': 2}.", str(caught.exception))
        self.app.cable.broadcast("room:general", {"ok": 1, "n": 2})
        await self.assertReceives(ws, {"ok": 1.0, "n": 2})  # one number type, as in JSON

    async def test_unknown_action(self):
        ws = await self.subscribed()
        with self.assertRaises(ErrorReply) as caught:
            await ws.send_action(CHANNEL, "no_such_action")
        self.assertIn("{'type': 'error', 'reason': 'unknown_action'}", str(caught.exception))
        self.assertIn(f"{CHANNEL} has no public method 'no_such_action'", str(caught.exception))
        self.assertIsInstance(caught.exception, AssertionError)  # a failure, not an error

    async def test_expect_error_fails_when_the_app_accepts(self):
        ws = await self.subscribed()
        with self.assertRaises(AssertionError) as caught:
            await ws.send_action(CHANNEL, "post", {"title": "fine"}, expect_error=True)
        self.assertIn("Expected the app to answer the action 'post'", str(caught.exception))
        self.assertIn("with an error; it did not", str(caught.exception))

    async def test_a_private_action_is_an_error_reply(self):
        ws = await self.subscribed()
        reply = await ws.send_action(CHANNEL, "_secret", expect_error=True)
        self.assertEqual(reply, {"type": "error", "reason": "invalid_action"})

    async def test_a_frame_that_is_not_json_fails_send(self):
        ws = await self.connect()
        ws.client_send_raw({"type": "websocket.receive", "text": "{not json"})
        with self.assertRaises(ErrorReply) as caught:
            await ws.subscribe(CHANNEL, room="general")
        self.assertIn("invalid_json", str(caught.exception))

    async def test_broadcast_reaches_another_connection_in_the_room(self):
        sender = await self.subscribed("general")
        listener = await self.subscribed("general")
        elsewhere = await self.subscribed("other")
        self.assertEqual(self.app.cable.streams["room:general"], 2)
        await sender.send_action(CHANNEL, "post", {"title": "for everyone"})
        note = Note.get(Note.title == "for everyone")
        expected = {"title": "for everyone", "id": note.id}
        await self.assertReceives(listener, expected)
        await self.assertReceives(sender, expected)
        await self.assertNothingReceived(elsewhere, timeout=QUICK)

    async def test_captureBroadcasts_sees_channel_broadcasts(self):
        ws = await self.subscribed("general")
        with self.captureBroadcasts("room:general", "room:other") as broadcasts:
            await ws.send_action(CHANNEL, "post", {"title": "captured"})
        note = Note.get(Note.title == "captured")
        self.assertEqual(broadcasts, [{"title": "captured", "id": note.id}])
        self.assertEqual(broadcasts.by_stream["room:other"], [])
        # The recorder is gone after the block; the connection still listens.
        self.assertEqual(self.app.cable.streams["room:general"], 1)

    async def test_http_request_in_the_loop_and_its_broadcast(self):
        ws = await self.subscribed("general")
        with self.captureBroadcasts("notes") as broadcasts:
            result = await self.client.post("/notes", body={"title": "over http"})
        note = Note.get(Note.title == "over http")
        self.assertRedirects(result, f"/notes/{note.id}")
        self.assertEqual(broadcasts, [{"title": "over http"}])
        # The open connection keeps working after the request.
        await ws.send_action(CHANNEL, "post", {"title": "after http"})
        self.assertEqual(Note.select().count(), 2)

    async def test_async_client_sees_rows_from_the_channel_and_vice_versa(self):
        await self.client.post("/notes", body={"title": "by http"})
        ws = await self.subscribed("general")
        await ws.send_action(CHANNEL, "post", {"title": "by ws"})
        self.assertEqual((await self.client.get("/notes")).body, "by http,by ws")


class DatabaseErrorsTests(AsyncChannelTestCase):
    app = APP

    async def test_integrity_error_in_an_async_request_leaves_the_test_usable(self):
        await self.client.post("/notes", body={"title": "dup"})
        result = await self.client.post("/notes", body={"title": "dup"})
        self.assertEqual(result.status, 500)
        self.assertIn("IntegrityError", result.app_tracebacks[-1])
        self.assertEqual(Note.select().count(), 1)
        self.assertStatus(await self.client.post("/notes", body={"title": "after"}), 303)

    async def test_a_crashing_action_is_reported_by_send_action(self):
        Note.create(title="dup")
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="general")
        with self.assertRaises(AssertionError) as caught:
            await ws.send_action(CHANNEL, "post", {"title": "dup"})
        message = str(caught.exception)
        self.assertIn("The connection's handler ended.", message)
        self.assertIn("The connection's handler crashed: IntegrityError", message)
        self.assertIn("confirm_subscription", message)
        self.assertFalse(ws.is_open)

    # library bug: on PostgreSQL the failed INSERT of the channel action
    # aborts the test transaction, and the next query in the test raises
    # peewee.InternalError: current transaction is aborted, commands ignored
    # until end of transaction block. HTTP requests are wrapped in
    # recover_aborted_transactions (client.py); channel code, run inline by
    # isolation.run_inline / ChannelSession, is not. SQLite and MySQL pass.
    async def test_after_a_crashing_action_the_test_can_still_query(self):
        Note.create(title="dup")
        ws = await self.connect()
        await ws.subscribe(CHANNEL, room="general")
        with self.assertRaises(AssertionError):
            await ws.send_action(CHANNEL, "post", {"title": "dup"})
        self.assertEqual([n.title for n in Note.select()], ["dup"])


class TeardownAndIsolationTests(ProperTestCase):
    """Sync tests that run async test classes inside them (run_inner)."""

    app = APP

    def test_rows_from_channel_actions_are_gone_in_the_next_test(self):
        class Inner(AsyncChannelTestCase):
            app = APP

            async def test_1_creates_through_the_channel(self):
                ws = await self.connect()
                await ws.subscribe(CHANNEL, room="general")
                await ws.send_action(CHANNEL, "post", {"title": "leaky?"})
                self.assertEqual(Note.select().count(), 1)

            async def test_2_sees_nothing(self):
                self.assertEqual(Note.select().count(), 0)
                self.assertEqual((await self.client.get("/notes")).body, "")

        result, output = run_inner(Inner)
        self.assertEqual(result.testsRun, 2, output)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(Note.select().count(), 0)

    def test_connections_are_closed_at_teardown(self):
        seen = {}

        class Inner(AsyncChannelTestCase):
            app = APP

            async def test_1_leaves_a_connection_open(self):
                async def streams_after_close():
                    # Registered before connect(): cleanups run last-in
                    # first-out, so this runs after the session's close.
                    seen["streams at cleanup"] = dict(self.app.cable.streams)

                self.addAsyncCleanup(streams_after_close)
                ws = await self.connect()
                await ws.subscribe(CHANNEL, room="leftover")
                seen["ws"] = ws
                seen["streams in test"] = dict(self.app.cable.streams)

            async def test_2_no_leftover_stream(self):
                self.assertNotIn("room:leftover", self.app.cable.streams)

        result, output = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(seen["streams in test"].get("room:leftover"), 1)
        self.assertNotIn("room:leftover", seen["streams at cleanup"])
        ws = seen["ws"]
        self.assertFalse(ws.is_open)
        # Closed by the test case (the handler ended), not cancelled when
        # the test's event loop shut down.
        self.assertFalse(ws.task.cancelled())
        self.assertIsNone(ws.task.exception())
        self.assertNotIn("room:leftover", self.app.cable.streams)

    def test_guide_style_asyncio_run_in_a_sync_test(self):
        bea = User.create(name="bea")
        self.sign_in(bea)

        async def scenario():
            ws = self.client.websocket()
            await ws.connect()
            confirm = await ws.subscribe(CHANNEL, room="general")
            hello = await ws.receive_message()
            await ws.send_action(CHANNEL, "post", {"title": "from asyncio.run"})
            note = Note.get(Note.title == "from asyncio.run")  # ran in the worker, in the transaction
            posted = await ws.receive_message()
            await ws.close()
            return confirm, hello, note, posted

        confirm, hello, note, posted = asyncio.run(scenario())
        self.assertEqual(confirm, CONFIRM_GENERAL)
        self.assertEqual(hello, {"hello": "bea"})
        self.assertEqual(posted, {"title": "from asyncio.run", "id": note.id})
        self.assertEqual(self.client.get("/notes").body, "from asyncio.run")
        self.assertNotIn("room:general", self.app.cable.streams)

    def test_guide_style_channel_code_runs_in_a_worker_with_its_own_asyncio_run(self):
        async def scenario():
            ws = self.client.websocket()
            await ws.connect()
            await ws.subscribe("WorkerChannel")
            await ws.send_action("WorkerChannel", "where")
            where = await ws.receive_message()
            await ws.send_action("WorkerChannel", "nested", {"n": 5})
            nested = await ws.receive_message()
            await ws.close()
            return where, nested

        where, nested = asyncio.run(scenario())
        self.assertEqual(where, {"thread": f"proper-worker ({self.id()})"})
        self.assertEqual(nested["result"], 10)
        self.assertEqual(self.client.get("/notes").body, "nested 10")

    def test_guide_style_rows_are_gone_in_the_next_test(self):
        class Inner(ProperTestCase):
            app = APP

            def test_1_posts_through_a_channel(self):
                async def scenario():
                    ws = self.client.websocket()
                    await ws.connect()
                    await ws.subscribe(CHANNEL, room="general")
                    await ws.send_action(CHANNEL, "post", {"title": "sync leaky?"})
                    await ws.close()

                asyncio.run(scenario())
                self.assertEqual(Note.select().count(), 1)

            def test_2_sees_nothing(self):
                self.assertEqual(Note.select().count(), 0)

        result, output = run_inner(Inner)
        self.assertEqual(result.testsRun, 2, output)
        self.assertTrue(result.wasSuccessful(), output)

    def test_http_request_reaches_an_open_connection_under_asyncio_run(self):
        async def scenario():
            ws = self.client.websocket()
            await ws.connect()
            await ws.subscribe(CHANNEL, room="general")
            await ws.receive_message()
            with self.captureBroadcasts("notes") as broadcasts:
                result = await self.async_client.post("/notes", body={"title": "while open"})
            await ws.send_action(CHANNEL, "post", {"title": "then ws"})
            posted = await ws.receive_message()
            await ws.close()
            return result, list(broadcasts), posted

        result, broadcasts, posted = asyncio.run(scenario())
        self.assertEqual(result.status, 303)
        self.assertEqual(broadcasts, [{"title": "while open"}])
        self.assertEqual(posted["title"], "then ws")
        self.assertEqual(self.client.get("/notes").body, "while open,then ws")


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
