"""System tests: a real browser against the app served over HTTP, inside
the test's own rolled-back transaction.

Needs the ``system`` extra (Playwright, websockets) and a Chromium; the
rest of the library never imports this package (``proper_unittest``
loads it on first use of ``SystemTestCase``).

Public: ``SystemTestCase`` and ``expect``, here. Its modules are private:
``live_server`` (the app served over HTTP and WebSockets from a thread) and
``browser`` (one Playwright and one Chromium per process).
"""
import re
import unittest
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from proper.constants import AUTH_COOKIE_NAME
from proper.helpers import CIMultiDict

from proper_unittest.system.browser import (
    HEADED_ENV, REQUIRE_ENV, BrowserMissing, BrowserSettings, browser_for, find_executable,
    hide_playwright_loop, is_on, mark_playwright_loop, playwright_loop_hidden,
)
from proper_unittest.system.live_server import IDLE_TIMEOUT, LiveServer, LiveServerError
from proper_unittest.recording.recorder import active_recording
from proper_unittest.databases.shared_connection import SharedConnection
from proper_unittest.client.client import ProperClient
from proper_unittest.client.response import Response
from proper_unittest.errors import ConfigurationError
from proper_unittest.testcase import ProperTestCase

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page
    from playwright.sync_api import Response as PageResponse

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the class skips itself with the install hint
    expect = None  # type: ignore[assignment]

__all__ = ("SystemTestCase", "expect")

# unittest leaves this module's frames out of failure reports.
__unittest = True

#: Where failing tests leave a screenshot and the page's HTML (relative to
#: the working directory).
SCREENSHOTS_DIR = "tmp/screenshots"
BROWSER_NOTE = "---- Browser at failure:"
SAVE_TIMEOUT_MS = 10_000


class SystemClient(ProperClient):
    """The in-process client of a system test: its requests take the
    shared connection's lock, with Playwright's loop hidden."""

    lock: Any = None

    def _request(self, url: str, **kwargs: Any) -> Response:
        with self.lock, playwright_loop_hidden():
            return super()._request(url, **kwargs)


class SystemTestCase(ProperTestCase):
    """A ProperTestCase whose tests also drive a real browser.

    Per class, the app is served on a free port of 127.0.0.1 from a thread
    of the test process (``self.live_server_url``), sharing the test's
    connection and transaction: the browser sees the rows the test made,
    the test sees what the browser submitted, and the library's rollback
    undoes both. Per process, one Chromium; per test, a new browser
    context and page (``self.page``, Playwright's ``Page``). Everything
    ProperTestCase has works too (``self.client``, assertions, outbox,
    tasks, broadcasts, the flight recorder, which also lists the live
    server's requests). On failure, a full-page screenshot and the page's
    HTML are saved under ``tmp/screenshots/`` and named in the report.

    Assert on the page (``expect(...)``, which waits) before asserting on
    the database: ``click()`` returns before the server has handled what
    it submitted.
    """

    #: Show the browser window (``PROPER_UNITTEST_HEADED=1`` also does).
    headless: ClassVar[bool] = True
    #: The Chromium to launch (path or command); ``PROPER_UNITTEST_CHROMIUM``
    #: overrides it. None: ``chromium`` on the PATH, else Playwright's own.
    browser_executable: ClassVar[str | None] = None
    #: Seconds any page action or ``expect`` waits before failing.
    browser_timeout: ClassVar[float] = 5.0
    #: The page's viewport size.
    viewport: ClassVar[dict[str, int]] = {"width": 1280, "height": 800}
    #: Where failing tests leave their screenshot and HTML.
    screenshots_dir: ClassVar[str] = SCREENSHOTS_DIR

    client: SystemClient
    _client_class = SystemClient

    #: The live server's address, e.g. ``http://127.0.0.1:41234``.
    live_server_url: ClassVar[str]
    _live_server: ClassVar[LiveServer]
    _shared_connection: ClassVar[SharedConnection]
    _browser_settings: ClassVar[BrowserSettings]

    _context: "BrowserContext | None" = None
    _page: "Page | None" = None

    @classmethod
    def setUpClass(cls) -> None:
        """Find the browser (or skip the class, saying how to install
        one), do ProperTestCase's class set-up, then share the connection
        and start the live server."""
        try:
            settings = BrowserSettings(
                executable=find_executable(cls.browser_executable),
                headless=cls.headless and not is_on(HEADED_ENV),
            )
            browser_for(settings)
        except BrowserMissing as missing:
            if is_on(REQUIRE_ENV):
                raise ConfigurationError(f"{missing} ({REQUIRE_ENV} is set: not skipped.)") from None
            raise unittest.SkipTest(str(missing)) from None
        cls._browser_settings = settings
        super().setUpClass()
        shared = SharedConnection(cls.app, cls._databases.values()).open()
        cls.addClassCleanup(shared.close)
        cls._shared_connection = shared
        server = LiveServer(cls.app, on_request=_note_server_request).start()
        cls.addClassCleanup(server.stop)
        cls._live_server = server
        cls.live_server_url = server.url

    # ---- per test ----

    def _pre_setup(self) -> None:
        with self._shared_connection.lock:
            super()._pre_setup()
        self.client.lock = self._shared_connection.lock
        try:
            self._open_page()
        except BaseException:  # the test's cleanups are not registered yet: undo here
            self._post_teardown()
            raise

    def _open_page(self) -> None:
        mark_playwright_loop()
        context = browser_for(self._browser_settings).new_context(
            base_url=self.live_server_url, viewport=cast(Any, self.viewport)
        )
        self._context = context
        timeout_ms = self.browser_timeout * 1000
        context.set_default_timeout(timeout_ms)
        if expect is not None:
            expect.set_options(timeout=timeout_ms)
        self._page = context.new_page()

    def _post_teardown(self) -> None:
        """Close the test's browser context, wait until the live server
        has nothing open, then roll back as ProperTestCase does."""
        context, self._context, self._page = self._context, None, None
        try:
            if context is not None:
                context.close()
        finally:
            hide_playwright_loop()
            idle = self._live_server.wait_idle()
            try:
                # Outside the lock: channel code still running needs it to end.
                self._end_channel_workers()
            finally:
                with self._shared_connection.lock:  # waits for a request still running
                    super()._post_teardown()
            if not idle:
                raise LiveServerError(
                    f"The live server still served {self._live_server.open_requests} request(s) or "
                    f"WebSocket(s) {IDLE_TIMEOUT:.0f} s after the test's browser closed; the test "
                    "was rolled back all the same."
                )

    @property
    def page(self) -> "Page":
        """The test's browser page (Playwright's ``Page``)."""
        if self._page is None:
            raise ConfigurationError("self.page exists while a system test runs (after setUp).")
        return self._page

    def visit(self, path: str) -> "PageResponse | None":
        """Open `path` (relative to the live server) in the page; returns
        Playwright's response."""
        return self.page.goto(path)

    def sign_in(self, user_or_session: Any) -> Any:
        """Sign the in-process client and the browser in with one session
        (see ProperTestCase.sign_in); returns the session."""
        session = super().sign_in(user_or_session)
        cookie = self.client.cookies[AUTH_COOKIE_NAME]
        if self._context is not None:
            self._context.add_cookies([{"name": AUTH_COOKIE_NAME, "value": cookie, "url": self.live_server_url}])
        return session

    def sign_out(self) -> None:
        """Stop sending the auth cookie, from the client and the browser."""
        super().sign_out()
        if self._context is not None:
            self._context.clear_cookies(name=AUTH_COOKIE_NAME)

    def _callTestMethod(self, method: Callable[[], Any]) -> None:  # noqa: N802 - unittest's name
        try:
            cast(Any, super())._callTestMethod(method)  # unittest-private, not in typeshed
        except BaseException as error:
            if isinstance(error, Exception) and not isinstance(error, unittest.SkipTest):
                error.add_note(self._save_page())
            raise

    def _save_page(self) -> str:
        """Save a full-page screenshot and the HTML of the page; the note
        naming them."""
        page = self._page
        if page is None:
            return f"{BROWSER_NOTE} (no page) ----"
        folder = Path(self.screenshots_dir)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.id())
        lines = [f"{BROWSER_NOTE} {page.url} ----"]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            image, html = folder / f"{stem}.png", folder / f"{stem}.html"
            # Its own timeout: a short browser_timeout must not lose the picture.
            page.screenshot(path=str(image), full_page=True, timeout=SAVE_TIMEOUT_MS)
            html.write_text(page.content(), encoding="utf-8")
            lines += [f"Screenshot: {image}", f"HTML: {html}"]
        except Exception as problem:  # never hide the real failure
            lines.append(f"(the page could not be saved: {problem!r})")
        return "\n".join(lines)


def _note_server_request(method: str, path: str, status: int) -> None:
    """The live server's requests join the running test's flight recorder."""
    recording = active_recording()
    if recording is None:
        return
    response = Response(status=status, body="", content=b"", mimetype="", content_type="")
    dict.__setitem__(response, "headers", CIMultiDict())
    response["request"] = f"{method} {path} (browser)"
    recording.note_response(response)
