"""ChatChannel over WebSockets, and broadcasts from a controller."""
from myapp.models import Message
from proper_unittest import AsyncChannelTestCase, ProperTestCase

from .factories import make_user


class ChatChannelTests(AsyncChannelTestCase):
    """Subscribing, speaking and receiving in chat rooms."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")
        cls.bob = make_user("bob@example.com")

    async def join(self, user, room="general"):
        """A connection signed in as `user`, subscribed to `room`."""
        self.sign_in(user)
        ws = await self.connect()
        confirm = await ws.subscribe("ChatChannel", room=room)
        self.assertEqual(confirm["type"], "confirm_subscription")
        return ws

    async def test_signed_in_users_can_join_a_room(self):
        self.sign_in(self.alice)
        ws = await self.connect()
        confirm = await ws.subscribe("ChatChannel", room="general")
        self.assertEqual(confirm, {
            "type": "confirm_subscription", "channel": "ChatChannel", "params": {"room": "general"},
        })
        self.assertEqual(self.app.cable.streams.get("chat:general"), 1)

    async def test_anonymous_users_are_rejected(self):
        ws = await self.connect()
        answer = await ws.subscribe("ChatChannel", room="general")
        self.assertEqual(answer["type"], "reject_subscription")
        self.assertNotIn("chat:general", self.app.cable.streams)

    async def test_unknown_rooms_are_rejected(self):
        self.sign_in(self.alice)
        ws = await self.connect()
        answer = await ws.subscribe("ChatChannel", room="secret")
        self.assertEqual(answer["type"], "reject_subscription")

    async def test_speak_saves_and_broadcasts_the_message(self):
        ws = await self.join(self.alice)
        await ws.send_action("ChatChannel", "speak", {"message": "  Hello, world  "})
        await self.assertReceives(ws, {"user": "alice@example.com", "message": "Hello, world"})
        message = Message.get(Message.room == "general")
        self.assertEqual((message.user_id, message.body), (self.alice.id, "Hello, world"))

    async def test_everyone_in_the_room_hears_it(self):
        alice_ws = await self.join(self.alice)
        bob_ws = await self.join(self.bob)
        await bob_ws.send_action("ChatChannel", "speak", {"message": "hi alice"})
        expected = {"user": "bob@example.com", "message": "hi alice"}
        await self.assertReceives(alice_ws, expected)
        await self.assertReceives(bob_ws, expected)

    async def test_other_rooms_hear_nothing(self):
        general = await self.join(self.alice, room="general")
        random = await self.join(self.bob, room="random")
        await general.send_action("ChatChannel", "speak", {"message": "only here"})
        await self.assertReceives(general, {"user": "alice@example.com", "message": "only here"})
        await self.assertNothingReceived(random)

    async def test_empty_messages_get_an_error_and_are_not_saved(self):
        ws = await self.join(self.alice)
        await ws.send_action("ChatChannel", "speak", {"message": "   "})
        await self.assertReceives(ws, {"error": "empty message"})
        self.assertEqual(Message.select().count(), 0)

    async def test_speaking_is_recorded_by_capture_broadcasts(self):
        ws = await self.join(self.alice)
        with self.captureBroadcasts("chat:general") as sent:
            await ws.send_action("ChatChannel", "speak", {"message": "recorded"})
        self.assertEqual(sent, [{"user": "alice@example.com", "message": "recorded"}])

    async def test_announcements_reach_subscribers(self):
        ws = await self.join(self.alice)
        result = await self.client.post("/rooms/general/announce", body={"message": "Deploy at 5"})
        self.assertStatus(result, 202)
        await self.assertReceives(ws, {
            "user": "alice@example.com", "message": "Deploy at 5", "announcement": True,
        })

    async def test_unsubscribed_connections_stop_receiving(self):
        ws = await self.join(self.alice)
        await ws.unsubscribe("ChatChannel", room="general")
        await self.client.post("/rooms/general/announce", body={"message": "anyone?"})
        await self.assertNothingReceived(ws)

    async def test_room_page_lists_what_was_said(self):
        ws = await self.join(self.alice)
        await ws.send_action("ChatChannel", "speak", {"message": "for the record"})
        await ws.receive_message()
        result = await self.client.get("/rooms/general")
        self.assertContains(result, "<strong>alice@example.com</strong>: for the record")


class AnnounceTests(ProperTestCase):
    """POST /rooms/:room/announce broadcasts with app.cable.broadcast()."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")

    def test_announce_broadcasts_to_the_room_stream(self):
        self.sign_in(self.alice)
        with self.captureBroadcasts("chat:general", "chat:random") as sent:
            result = self.client.post("/rooms/general/announce", body={"message": "Lunch!"})
        self.assertJSON(result, {"stream": "chat:general", "message": "Lunch!"}, status=202)
        self.assertEqual(sent.by_stream["chat:general"], [
            {"user": "alice@example.com", "message": "Lunch!", "announcement": True},
        ])
        self.assertEqual(sent.by_stream["chat:random"], [])

    def test_announce_needs_a_signed_in_user(self):
        result = self.client.post("/rooms/general/announce", body={"message": "Lunch!"})
        self.assertRedirects(result, "/sign-in")
        self.assertNoBroadcasts()

    def test_empty_announcements_are_refused(self):
        self.sign_in(self.alice)
        result = self.client.post("/rooms/general/announce", body={"message": " "})
        self.assertJSON(result, {"error": "message is required"}, status=422)
        self.assertNoBroadcasts()
