"""One Playwright and one Chromium per process, for every system test class.

Started by the first system test class that needs it, closed when the
process exits. Which browser: ``PROPER_UNITTEST_CHROMIUM`` (a path or a
command), else the class's ``browser_executable``, else the first of
``chromium``, ``chromium-browser``, ``google-chrome`` on the PATH, else
the Chromium Playwright downloads (``playwright install chromium``).

Playwright's sync API keeps its event loop marked as running on the thread
that started it, between its calls too; then Proper's synchronous test
client and the library's per-test loop refuse to run. The loop is marked
only while a system test runs (:func:`playwright_loop_marked`), and hidden
around the in-process client's requests (:func:`playwright_loop_hidden`).
"""
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proper_unittest.discovery import env_switch
from proper_unittest.private_apis import running_loop, set_running_loop
from proper_unittest.isolation.termination import register_exit_hook

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

#: A browser executable (path or command on the PATH) to use.
EXECUTABLE_ENV = "PROPER_UNITTEST_CHROMIUM"
#: "1": show the browser window (headless is the default).
HEADED_ENV = "PROPER_UNITTEST_HEADED"
#: "1": a missing browser fails the system test classes instead of skipping them (CI).
REQUIRE_ENV = "PROPER_UNITTEST_REQUIRE_BROWSER"
#: Looked up on the PATH, in this order, when no executable is configured.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Chromium flags for a machine without network access: no background traffic.
FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
INSTALL_HINT = (
    "Install a browser: `apt-get install chromium` (Debian), or "
    "`python -m playwright install chromium`, or point "
    f"{EXECUTABLE_ENV} at a Chromium or Chrome executable; and the extra: "
    "`pip install 'proper_unittest[system]'`."
)


class BrowserMissing(Exception):
    """No usable browser (or no Playwright): the message says how to install one."""


def is_on(variable: str) -> bool:
    """Whether an environment switch is set to a true value."""
    return bool(env_switch(variable))


def find_executable(configured: str | None) -> str | None:
    """The Chromium to launch (see the module docstring); None means
    Playwright's own download. A configured one that does not exist raises
    :class:`BrowserMissing`."""
    wanted = os.environ.get(EXECUTABLE_ENV) or configured
    if wanted:
        found = shutil.which(wanted)
        if found is None:
            source = EXECUTABLE_ENV if os.environ.get(EXECUTABLE_ENV) else "browser_executable"
            raise BrowserMissing(f"The browser {wanted!r} ({source}) was not found. {INSTALL_HINT}")
        return found
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class BrowserSettings:
    """How to launch the browser: which executable (None: Playwright's own) and headless or not."""

    executable: str | None
    headless: bool


class _ProcessBrowsers:
    """Playwright, started once, and one browser per settings, all closed at exit."""

    def __init__(self) -> None:
        self.playwright: "Playwright | None" = None
        self.loop: Any = None
        self.browsers: dict[BrowserSettings, "Browser"] = {}

    def get(self, settings: BrowserSettings) -> "Browser":
        """The browser for `settings`, launched on first use; raises
        :class:`BrowserMissing` when it cannot be."""
        browser = self.browsers.get(settings)
        if browser is not None and browser.is_connected():
            return browser
        playwright = self._playwright()
        with playwright_loop_marked():
            if settings.executable is None and not Path(playwright.chromium.executable_path).exists():
                raise BrowserMissing(f"No Chromium on the PATH and none from Playwright. {INSTALL_HINT}")
            try:
                browser = playwright.chromium.launch(
                    executable_path=settings.executable, headless=settings.headless, args=list(FLAGS)
                )
            except Exception as error:
                raise BrowserMissing(
                    f"Chromium ({settings.executable or 'Playwright`s own'}) did not start: "
                    f"{str(error).strip().splitlines()[0]}. {INSTALL_HINT}"
                ) from None
        self.browsers[settings] = browser
        return browser

    def _playwright(self) -> "Playwright":
        if self.playwright is None:
            try:
                from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional extra
            except ImportError:
                raise BrowserMissing(f"Playwright is not installed. {INSTALL_HINT}") from None
            before = running_loop()
            self.playwright = sync_playwright().start()
            self.loop = running_loop()
            set_running_loop(before)
            register_exit_hook(self.close)
        return self.playwright

    def close(self) -> None:
        """Close every browser and stop Playwright."""
        playwright, self.playwright = self.playwright, None
        if playwright is None:
            return
        with playwright_loop_marked():
            for browser in self.browsers.values():
                try:
                    browser.close()
                except Exception:  # already gone: nothing to close
                    pass
            self.browsers.clear()
            playwright.stop()


_browsers = _ProcessBrowsers()


def browser_for(settings: BrowserSettings) -> "Browser":
    """This process's browser for `settings` (see :class:`_ProcessBrowsers`)."""
    return _browsers.get(settings)


@contextmanager
def playwright_loop_marked() -> Iterator[None]:
    """Within this block, Playwright's loop is marked as running on this
    thread, as its sync API needs; afterwards, whatever was before."""
    before = running_loop()
    if _browsers.loop is not None:
        set_running_loop(_browsers.loop)
    try:
        yield
    finally:
        set_running_loop(before)


def mark_playwright_loop() -> None:
    """Mark Playwright's loop as running on this thread (for a whole test)."""
    if _browsers.loop is not None:
        set_running_loop(_browsers.loop)


def hide_playwright_loop() -> None:
    """Unmark Playwright's loop on this thread, if it is the one marked."""
    if _browsers.loop is not None and running_loop() is _browsers.loop:
        set_running_loop(None)


@contextmanager
def playwright_loop_hidden() -> Iterator[None]:
    """Within this block no loop is marked as running on this thread (for
    the in-process client's requests); afterwards, whatever was before."""
    before = running_loop()
    set_running_loop(None)
    try:
        yield
    finally:
        set_running_loop(before)
