"""System tests: a real browser (Chromium, through Playwright) against the
app served on a live port, inside the test's rolled-back transaction.

Skipped, with the install command, where no Chromium is found.
"""
import os
import unittest
from pathlib import Path

from proper import turbo_stream

from myapp.main import app
from myapp.models import Message, Photo
from proper_unittest import SystemTestCase
from proper_unittest.system import expect

from .factories import make_photo, make_user


# Turbo's browser build, installed from package-lock.json by `npm ci` in
# examples/myapp (.ci/run does it).
TURBO = Path(__file__).resolve().parent.parent / "node_modules/@hotwired/turbo/dist/turbo.es2017-umd.js"

# The room page has no JavaScript of its own yet: the test gives it a
# minimal cable client (the protocol of Proper's channels addon): subscribe
# to the room's ChatChannel; a string message is a Turbo Stream, rendered
# by Turbo; a chat message is appended to the list.
CABLE_CLIENT = """
(room) => new Promise((resolve) => {
  const socket = new WebSocket(`ws://${location.host}/cable`);
  const channel = "ChatChannel", params = {room};
  window.chat = (message) => socket.send(JSON.stringify(
    {command: "message", channel, action: "speak", data: {message}, params}));
  socket.onopen = () => socket.send(JSON.stringify({command: "subscribe", channel, params}));
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "confirm_subscription") resolve(true);
    if (frame.type !== "message") return;
    if (typeof frame.data === "string") {
      Turbo.renderStreamMessage(frame.data);
    } else if (frame.data.message) {
      const item = document.createElement("li");
      item.textContent = `${frame.data.user}: ${frame.data.message}`;
      document.getElementById("messages").append(item);
    }
  };
})
"""


class PhotoFormInTheBrowserTests(SystemTestCase):
    """Signing in and posting a photo through the real form."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")

    def test_the_browser_sees_rows_the_test_made(self):
        make_photo(self.alice, "Made by the test")
        self.visit("/photos")
        expect(self.page.get_by_role("link", name="Made by the test")).to_be_visible()

    def test_a_photo_posted_from_the_form_is_saved_in_the_test_transaction(self):
        self.sign_in(self.alice)
        self.visit("/photos/new")
        self.page.get_by_label("Title").fill("Posted from Chromium")
        self.page.get_by_label("Caption").fill("Through the real form")
        self.page.get_by_role("button", name="Create photo").click()
        # The page first: click() returns before the server has handled the POST.
        expect(self.page.locator(".flash")).to_have_text("Photo was created")
        photo = Photo.get(Photo.title == "Posted from Chromium")
        self.assertEqual(photo.owner_id, self.alice.id)
        self.assertEqual(photo.caption, "Through the real form")

    def test_the_form_shows_errors_from_the_server(self):
        self.sign_in(self.alice)
        self.visit("/photos/new")
        # Spaces pass the browser's `required` check; the server refuses them.
        self.page.get_by_label("Title").fill("   ")
        self.page.get_by_role("button", name="Create photo").click()
        expect(self.page.get_by_text("Please give your photo a title")).to_be_visible()
        self.assertEqual(Photo.select().count(), 0)

    def test_z_nothing_the_browser_wrote_survives_the_test(self):
        # Runs after the posting test (alphabetical order): its row is gone.
        self.assertEqual(Photo.select().count(), 0)


class ChatRoomInTheBrowserTests(SystemTestCase):
    """Turbo Streams over the cable, to and from a real page."""

    @classmethod
    def setUpClass(cls):
        if not TURBO.exists():
            reason = f"Turbo is not installed: run `npm ci` in {TURBO.parents[3]}."
            if os.environ.get("PROPER_UNITTEST_REQUIRE_BROWSER") == "1":
                raise RuntimeError(reason)
            raise unittest.SkipTest(reason)
        super().setUpClass()

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")

    def open_room(self):
        self.sign_in(self.alice)
        self.visit("/rooms/general")
        self.page.add_script_tag(path=TURBO)
        self.assertTrue(self.page.evaluate(CABLE_CLIENT, "general"))

    def test_a_turbo_stream_broadcast_by_the_test_updates_the_page(self):
        self.open_room()
        stream = turbo_stream.append("messages", html="<li id='news'>The room is open</li>")
        app.cable.broadcast("chat:general", str(stream))
        expect(self.page.locator("#messages #news")).to_have_text("The room is open")

    def test_a_message_sent_from_the_page_is_saved_and_broadcast(self):
        self.open_room()
        self.page.evaluate("(text) => window.chat(text)", "Hello from Chromium")
        expect(self.page.locator("#messages li")).to_have_text(["alice@example.com: Hello from Chromium"])
        self.assertEqual(Message.get().body, "Hello from Chromium")
        self.assertBroadcastOn("chat:general", {"user": "alice@example.com", "message": "Hello from Chromium"})
