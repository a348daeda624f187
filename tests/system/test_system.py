"""SystemTestCase: a real Chromium against the notes app on a live port,
sharing the test's transaction; failure artefacts; the skip without a
browser; the in-process client and later test cases after Playwright ran.

Skipped where no Chromium is found (CI sets PROPER_UNITTEST_REQUIRE_BROWSER=1,
which makes that an error instead)."""
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from proper_unittest import AsyncChannelTestCase, ProperTestCase, SystemTestCase
from proper_unittest.system import expect
from tests.support.apps.notes.main import Note, User, app as notes_app
from tests.support.inner import REPO, run_inner
from tests.support.cases import WithAnn


APP = "tests.support.apps.notes.main:app"

# A page script: subscribe to NotesChannel's room and show every message's
# title in a list, as a page's own JavaScript would.
SUBSCRIBE = """
() => new Promise((resolve) => {
  const list = document.createElement("ol");
  list.id = "titles";
  document.body.append(list);
  const socket = new WebSocket(`ws://${location.host}/cable`);
  window.notesSocket = socket;
  socket.onopen = () => socket.send(JSON.stringify(
    {command: "subscribe", channel: "NotesChannel", params: {room: "general"}}));
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "confirm_subscription") resolve(true);
    if (frame.type === "message" && frame.data.title) {
      const item = document.createElement("li");
      item.textContent = frame.data.title;
      list.append(item);
    }
  };
})
"""
SPEAK = """(title) => window.notesSocket.send(JSON.stringify({command: "message",
  channel: "NotesChannel", action: "post", data: {title}, params: {room: "general"}}))"""
ME_REDIRECTS = """() => fetch("/me", {redirect: "manual"}).then((response) => response.type)"""
POST_NOTE = """(title) => fetch("/notes", {method: "POST", body: new URLSearchParams({title}),
  redirect: "manual"}).then((response) => response.status)"""


class SharedTransactionTests(WithAnn, SystemTestCase):
    app = APP

    def test_the_browser_sees_the_test_rows_and_the_test_sees_the_browser_writes(self):
        Note.create(title="from the test")
        self.visit("/notes")
        expect(self.page.locator("body")).to_have_text("from the test")
        status = self.page.evaluate(POST_NOTE, "from the browser")
        self.assertIn(status, (0, 302))  # an opaque redirect reads as 0
        self.assertEqual([n.title for n in Note.select().order_by(Note.id)],
                         ["from the test", "from the browser"])
        # The in-process client shares the connection, with Playwright running.
        self.assertEqual(self.client.get("/notes").body, "from the test,from the browser")

    def test_a_request_that_fails_in_the_database_leaves_the_test_able_to_query(self):
        Note.create(title="taken")
        status = self.page.evaluate(POST_NOTE, "taken") if self.visit("/notes") else None
        self.assertEqual(status, 500)
        self.assertEqual(Note.select().count(), 1)

    def test_sign_in_is_one_session_for_the_client_and_the_browser(self):
        self.sign_in(self.ann)
        self.visit("/me")
        expect(self.page.locator("body")).to_have_text("ann")
        self.assertEqual(self.client.get("/me").body, "ann")
        self.sign_out()
        # Signed out, /me redirects (to the sign-in page).
        self.assertEqual(self.page.evaluate(ME_REDIRECTS), "opaqueredirect")
        self.assertEqual(self.client.get("/me").status, 303)

    def test_broadcasts_reach_the_page_and_page_actions_reach_the_test(self):
        self.sign_in(self.ann)
        self.visit("/notes")
        self.assertTrue(self.page.evaluate(SUBSCRIBE))
        notes_app.cable.broadcast("room:general", {"title": "from the test thread"})
        expect(self.page.locator("#titles li")).to_have_text(["from the test thread"])
        self.page.evaluate(SPEAK, "spoken in the page")
        expect(self.page.locator("#titles li")).to_have_text(["from the test thread", "spoken in the page"])
        self.assertEqual(Note.get(Note.title == "spoken in the page").title, "spoken in the page")
        self.assertBroadcastOn("room:general", {"title": "spoken in the page", "id": mock.ANY})

    def test_z_nothing_the_browser_wrote_survives(self):
        self.assertEqual(Note.select().count(), 0)
        self.assertEqual(User.select().count(), 1)  # ann, from setUpTestData


class NeedsABrowser(unittest.TestCase):
    """Skipped, with the install command, where no browser is found."""

    @classmethod
    def setUpClass(cls):
        from proper_unittest.system.browser import (
            REQUIRE_ENV, BrowserMissing, BrowserSettings, browser_for, find_executable, is_on,
        )
        try:
            browser_for(BrowserSettings(find_executable(None), headless=True))
        except BrowserMissing as missing:
            if is_on(REQUIRE_ENV):
                raise
            raise unittest.SkipTest(str(missing)) from None


class FailureReportTests(NeedsABrowser):
    def test_a_failing_system_test_saves_the_page_and_names_the_files(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())

        class Failing(SystemTestCase):
            app = APP
            screenshots_dir = folder

            def test_fails(self):
                Note.create(title="on the page")
                self.visit("/notes")
                self.assertIn("something else", self.page.content())

        result, output = run_inner(Failing)
        self.assertEqual(len(result.failures), 1, output)
        stem = f"{folder}/{__name__}.{type(self).__name__}.{self._testMethodName}._locals_.Failing.test_fails"
        image, html = Path(f"{stem}.png"), Path(f"{stem}.html")
        self.assertIn(f"Screenshot: {image}\nHTML: {html}\n", output)
        self.assertEqual(image.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
        self.assertIn("on the page", html.read_text())
        # The flight recorder lists the live server's requests, not the favicon's 404.
        self.assertIn("GET /notes (browser) -> 200", output)
        self.assertNotIn("MatchNotFound", output)
        self.assertIn("Browser at failure: http://127.0.0.1:", output)


class WithoutABrowserTests(unittest.TestCase):
    class Case(SystemTestCase):
        app = APP

        def test_never_runs(self):
            raise AssertionError("a class without a browser must not run")

    def test_no_browser_skips_the_class_with_the_install_command(self):
        env = {"PROPER_UNITTEST_CHROMIUM": "/nonexistent/chromium", "PROPER_UNITTEST_REQUIRE_BROWSER": ""}
        with mock.patch.dict(os.environ, env):
            result, output = run_inner(self.Case)
        self.assertEqual(len(result.skipped), 1, output)
        reason = result.skipped[0][1]
        self.assertIn("'/nonexistent/chromium' (PROPER_UNITTEST_CHROMIUM) was not found", reason)
        self.assertIn("apt-get install chromium", reason)

    def test_no_browser_fails_the_class_when_a_browser_is_required(self):
        env = {"PROPER_UNITTEST_CHROMIUM": "/nonexistent/chromium", "PROPER_UNITTEST_REQUIRE_BROWSER": "1"}
        with mock.patch.dict(os.environ, env):
            result, output = run_inner(self.Case)
        self.assertEqual(len(result.errors), 1, output)
        self.assertIn("PROPER_UNITTEST_REQUIRE_BROWSER is set", output)


class LazyImportTests(unittest.TestCase):
    def test_only_system_test_case_imports_playwright(self):
        code = ("import sys, proper_unittest as p; before = 'playwright' in sys.modules; "
                "p.SystemTestCase; print(before, 'playwright' in sys.modules, 'SystemTestCase' in p.__all__)")
        shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               cwd=REPO).stdout.split()
        self.assertEqual(shown, ["False", "True", "True"])

    def test_an_unknown_name_is_still_an_attribute_error(self):
        import proper_unittest
        with self.assertRaisesRegex(AttributeError, "has no attribute 'SystemTestcase'"):
            proper_unittest.SystemTestcase  # noqa: B018


class AfterASystemTestTests(NeedsABrowser):
    def test_async_and_sync_test_cases_still_run_after_a_system_test(self):
        class Browser(SystemTestCase):
            app = APP

            def test_visit(self):
                self.assertEqual(self.visit("/notes").status, 200)

        class Sync(ProperTestCase):
            app = APP

            def test_client(self):
                self.assertEqual(self.client.get("/notes").status, 200)

        class Async(AsyncChannelTestCase):
            app = APP

            async def test_client(self):
                self.assertEqual((await self.client.get("/notes")).status, 200)

        result, output = run_inner(Browser, Sync, Async)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(result.testsRun, 3)
        self.assertEqual(len(result.skipped), 0, output)  # a browser is there (or the suite skips)

