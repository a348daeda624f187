"""Turbo Streams and Frames on the chat room pages."""
from proper_unittest import ProperTestCase

from myapp.models import Message
from tests.factories import make_user


class TurboStreamTests(ProperTestCase):
    """POST /rooms/:room/messages answers Turbo with a stream, and broadcasts it."""

    def setUp(self):
        self.alice = make_user()
        self.sign_in(self.alice)

    def test_a_turbo_request_gets_a_stream_that_appends_the_message(self):
        result = self.client.post("/rooms/general/messages", body={"message": "Hi <all>"}, turbo_stream=True)
        self.assertStatus(result, 200)
        self.assertEqual(result.mimetype, "text/vnd.turbo-stream.html")
        message = Message.get()
        [append] = self.assertTurboStream(result, "append", "messages", count=1, contains="Hi &lt;all&gt;")
        self.assertSelect(append.select("li"), "strong", text="alice@example.com")
        self.assertEqual(append.select(f"li#message-{message.id}").text, "alice@example.com: Hi <all>")
        self.assertTurboStream(result, "update", "message-count", contains="1")
        self.assertEqual([(s.action, s.target) for s in result.turbo_streams],
                         [("append", "messages"), ("update", "message-count")])

    def test_the_same_append_is_broadcast_for_the_others(self):
        self.client.post("/rooms/general/messages", body={"message": "Hello"}, turbo_stream=True)
        self.assertTurboStreamBroadcast("turbo:general", "append", "messages", count=1, contains="Hello")
        self.assertTurboStreamBroadcast("turbo:random", "append", "messages", count=0)
        [broadcast] = [b for b in self.broadcasts if b.stream == "turbo:general"]
        self.assertEqual([(s.action, s.target) for s in broadcast.turbo_streams], [("append", "messages")])
        with self.assertRaises(AssertionError) as caught:
            self.assertBroadcasts("turbo:general", 2)
        self.assertIn('turbo:general: Turbo Streams:\n       <turbo-stream action="append" target="messages"> '
                      '<li id="message-', str(caught.exception))

    def test_without_turbo_it_redirects(self):
        result = self.client.post("/rooms/general/messages", body={"message": "Hello"})
        self.assertRedirects(result, "/rooms/general")
        self.assertEqual(result.turbo_streams, [])
        with self.assertRaises(AssertionError) as caught:
            self.assertTurboStream(result, "append", "messages")
        self.assertIn("Expected a Turbo Stream response (text/vnd.turbo-stream.html).", str(caught.exception))
        self.assertIn("turbo_stream=True", str(caught.exception))

    def test_a_failure_lists_the_streams(self):
        result = self.client.post("/rooms/general/messages", body={"message": "Hello"}, turbo_stream=True)
        with self.assertRaises(AssertionError) as caught:
            self.assertTurboStream(result, "replace", "messages")
        message = str(caught.exception)
        self.assertIn('Expected at least one <turbo-stream action="replace" target="messages"> in the response; '
                      "found 0.", message)
        self.assertIn('<turbo-stream action="append" target="messages"> <li id="message-', message)
        self.assertIn('<turbo-stream action="update" target="message-count"> 1', message)


class TurboFrameTests(ProperTestCase):
    """The room page's frame, and the Turbo-Frame request header."""

    def test_the_room_page_has_its_frame(self):
        user = make_user()
        self.sign_in(user)
        Message.create(user=user, room="general", body="first")
        result = self.client.get("/rooms/general", turbo_frame="room-summary")
        with self.assertTurboFrame(result, "room-summary") as frame:
            self.assertSelect(frame, "#message-count", text="1")
        with self.assertRaises(AssertionError) as caught:
            self.assertTurboFrame(result, "room-list")
        self.assertIn("Frames on the page:\n  'room-summary'", str(caught.exception))

    def test_the_turbo_frame_option_sends_the_header(self):
        self.sign_in(make_user())
        self.assertSelect(self.client.get("/rooms/general"), "turbo-frame", data_source="page")
        result = self.client.get("/rooms/general", turbo_frame="room-summary")
        self.assertSelect(result, "turbo-frame", data_source="room-summary")
