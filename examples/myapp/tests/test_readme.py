"""Every ```python snippet of the library's README, run against this app.

Each snippet is found by a line it contains (SETTINGS below) and run as
what it is: a whole test module (its test classes are run), the body of a
class (the class is made a ProperTestCase and run), or lines of a test
method (run in a ProperTestCase test, or an AsyncChannelTestCase one when
they await), after a few lines of set-up the snippet takes for granted
(a signed-in user, a photo). A snippet whose tests are meant to fail says
which, and with what; one that defines no test of its own is run by a
check written here. A snippet without a setting, or a setting without its
snippet, fails the test: a new snippet must be added here.

Every snippet runs. The one exception, by name: the system test snippet
(``needs_browser``) runs only where a browser is installed, and is skipped,
saying so, elsewhere (as its SystemTestCase is).
"""
import contextlib
import io
import re
import textwrap
import unittest
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from proper.cache.redis_cache import RedisCache

README = Path(__file__).resolve().parents[3] / "README.md"
APP_ROOT = Path(__file__).resolve().parents[1]

# What every snippet may use without importing it.
IMPORTS = """\
import re
import multidict
import peewee as pw
import time_machine
from datetime import UTC, datetime, timedelta
from peewee import IntegrityError
from myapp.forms import PhotoForm
from myapp.models import Attachment, Message, Photo, User
from myapp.tasks import generate_thumbnail
from proper_unittest import (
    AsyncChannelTestCase, InMemoryUpload, ProperTestCase, override_cache, override_config,
)
from tests.factories import PASSWORD, PIXEL_PNG, make_photo, make_user
"""

SIGNED_IN = 'user = make_user("alice@example.com")\nself.sign_in(user)\n'


@dataclass(frozen=True)
class Setting:
    """How to run a snippet: `kind` is "module", "class" or "method";
    `before` runs first in a "method" snippet's test. `errors` lists the
    snippet's tests meant to fail, as (method name, text its error
    contains); `check`, for a snippet without a test of its own, runs its
    classes (given the snippet's names) and returns the result and output.
    `needs_browser`: skipped, saying so, where no browser is installed.
    `cleanup` undoes what the snippet left in the process (given its names)."""

    kind: str
    before: str = ""
    errors: tuple[tuple[str, str], ...] = ()
    check: Callable[[dict], tuple[unittest.TestResult, str]] | None = field(default=None, compare=False)
    needs_browser: bool = False
    cleanup: Callable[[dict], None] | None = field(default=None, compare=False)


def run_classes(*classes: type) -> tuple[unittest.TestResult, str]:
    """Run test classes; the result and the output."""
    loader = unittest.TestLoader()
    loader.sortTestMethodsUsing = None
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(cls) for cls in classes)
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream, verbosity=2).run(suite)
    return result, stream.getvalue()


def forget_the_late_proxy(names: dict) -> None:
    """The guard snippet points a model at /srv/prod.sqlite3 through a proxy:
    uninitialized again, so later classes' safety checks do not see it."""
    names["late"].initialize(None)


def check_cache_opt_in(names: dict) -> tuple[unittest.TestResult, str]:
    """The opt-in snippet's class (no test of its own) runs its tests with the
    app's cache as configured, here a Redis one (never contacted); a class
    without the opt-in is refused before any test."""
    from myapp.main import app
    from proper_unittest import ProperTestCase

    class Reports(names["ReportCacheTests"]):
        def test_the_configured_cache_is_kept(self):
            self.assertIsInstance(self.app.cache, RedisCache)

    class NotOptedIn(ProperTestCase):
        def test_never_runs(self):
            raise AssertionError("a class without the opt-in ran")

    kept = app.cache
    app.cache = RedisCache("redis://127.0.0.1:6379/15")
    try:
        opted, opted_output = run_classes(Reports)
        refused, refused_output = run_classes(NotOptedIn)
    finally:
        app.cache = kept
    problems = [f"{test}: {text}" for test, text in opted.errors + opted.failures]
    refusal = "".join(text for _, text in refused.errors)
    if "Refusing to run tests with the cache proper.cache.redis_cache.RedisCache" not in refusal:
        problems.append(f"the class without the opt-in was not refused:\n{refused_output}")
    if problems:
        opted.failures.append((Reports("test_the_configured_cache_is_kept"), "\n".join(problems)))
    return opted, opted_output + refused_output


SETTINGS = {
    # The opening example.
    "class PhotoTests(ProperTestCase):\n    def test_create_redirects_and_persists": Setting("module"),
    # 2. Setup
    "class GalleryTests(ProperTestCase):": Setting("module"),
    # 4. Making requests
    'self.client.post("/api/photos", json=': Setting(
        "method", SIGNED_IN + "png_bytes = PIXEL_PNG.read_bytes()\n"
        "self.enterContext(contextlib.chdir(APP_ROOT))\n"
    ),
    "follow_redirects=True)": Setting("method", SIGNED_IN),
    # 5. The result object
    "self.assertStatus(result, 200)": Setting("method", SIGNED_IN + 'photo = make_photo(user, "Sunset")\n'),
    'self.assertSelect(result, "article.photo", count=3)': Setting(
        "method", SIGNED_IN + 'make_photo(user, "Sunset", caption="The sun goes down")\n'
        'make_photo(user, "Harbour")\n'
        'cover = Attachment(InMemoryUpload("dawn.png", PIXEL_PNG.read_bytes()))\ncover.save()\n'
        'photo = make_photo(user, "Dawn", cover=cover)\nresult = self.client.get("/photos")\n'
    ),
    # Turbo
    'self.client.post("/rooms/general/messages"': Setting("method", SIGNED_IN),
    # 8. Testing forms
    'self.assertFormError(result, "title"': Setting("method", SIGNED_IN),
    # Uploads and storage
    'cover = self.file_fixture("pixel.png")': Setting("method", SIGNED_IN),
    # Outside services and the network guard
    "class ReportCacheTests(ProperTestCase):": Setting("module", check=check_cache_opt_in),
    "from proper_unittest import ProperTestCase, allow_network": Setting("module"),
    # Safety: the connection guard
    "late = pw.DatabaseProxy()": Setting("module", cleanup=forget_the_late_proxy, errors=(
        ("test_late_proxy", "UnsafeDatabaseError: Refusing to connect SqliteDatabase '/srv/prod.sqlite3' "
                            f"(bound to model {__name__}.Note) during the test "
                            f"{__name__}.Refused.test_late_proxy: this run has not checked that it "
                            "is a test database"),
    )),
    # 6. Authentication
    "session = self.sign_in(user)": Setting("method", 'user = make_user("alice@example.com")\n'),
    # 7. Testing models
    "with self.assertRaises(IntegrityError):": Setting("method"),
    "with self.assertNumQueries(1):": Setting("method", 'user = make_user("alice@example.com")\n'),
    # 9. Testing emails
    'self.client.post("/sign-up"': Setting("method"),
    # 10. Testing background tasks
    "with self.captureTasks() as tasks:": Setting("method", SIGNED_IN),
    "self.assertEnqueued(generate_thumbnail": Setting("method", SIGNED_IN),
    # 11. Testing channels
    "class ChatTests(AsyncChannelTestCase):": Setting("module"),
    'await self.assertConnectionRefused("/wrong-path"': Setting("method"),
    'await ws.send_action("ChatChannel", "shout", expect_error=True)': Setting(
        "method", SIGNED_IN + 'ws = await self.connect()\nawait ws.subscribe("ChatChannel", room="general")\n'
    ),
    'self.assertBroadcastOn("chat:general"': Setting("method", SIGNED_IN),
    # 12. Time
    "self.travel_to(datetime(2030": Setting("method", 'user = make_user("alice@example.com")\n'),
    "@time_machine.travel(": Setting("class"),
    # 14. Tips
    "@override_config(SIGNUPS_OPEN=False)": Setting("class"),
    "with override_config(DEBUG=True) as config": Setting("method"),
    # System tests: the named exception, run only where a browser is installed
    "class PhotoFormTests(SystemTestCase):": Setting("module", needs_browser=True),
}


def snippets() -> list[tuple[int, str]]:
    """(line number, code) of every ```python block of the README."""
    text = README.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 2, match.group(1))
        for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)
    ]


def setting_of(code: str) -> tuple[str, Setting] | None:
    found = [(key, setting) for key, setting in SETTINGS.items() if key in code]
    return found[0] if len(found) == 1 else None


def snippet_module(code: str, setting: Setting) -> str:
    """The test module that runs the snippet."""
    if setting.kind == "module":
        return IMPORTS + code
    if setting.kind == "class":
        return IMPORTS + "class SnippetTests(ProperTestCase):\n" + textwrap.indent(code, "    ")
    asynchronous = "await " in code
    base = "AsyncChannelTestCase" if asynchronous else "ProperTestCase"
    header = f"class SnippetTests({base}):\n    {'async ' if asynchronous else ''}def test_snippet(self):\n"
    return IMPORTS + header + textwrap.indent(setting.before + code, "        ")


def run_snippet(line: int, code: str, setting: Setting) -> tuple[unittest.TestResult, str]:
    """Run the test classes the snippet makes; the result and the output."""
    namespace = {"__name__": __name__, "contextlib": contextlib, "APP_ROOT": APP_ROOT}
    try:
        exec(compile(snippet_module(code, setting), f"README.md, snippet at line {line}", "exec"), namespace)
        if setting.check is not None:
            return setting.check(namespace)
        classes = [
            value for name, value in namespace.items()
            if isinstance(value, type) and issubclass(value, unittest.TestCase)
            and value.__module__ == __name__ and name not in ("ProperTestCase", "AsyncChannelTestCase")
        ]
        return run_classes(*classes)
    finally:
        if setting.cleanup is not None:
            setting.cleanup(namespace)


def unexpected(result: unittest.TestResult, setting: Setting) -> list[str]:
    """What went otherwise than the snippet says: failures and errors it does
    not mean, and meant ones that did not come (or not with their text)."""
    meant = dict(setting.errors)
    problems = []
    for test, text in result.failures + result.errors:
        name = test.id().rsplit(".", 1)[-1]
        expected = meant.pop(name, None)
        if expected is None or expected not in text:
            problems.append(text)
    problems += [f"{name} was meant to fail with {text!r}; it did not" for name, text in meant.items()]
    return problems


@unittest.skipUnless(README.is_file(), "the library's README is not next to this app")
class ReadmeSnippetTests(unittest.TestCase):
    """Runs outside any test transaction: each snippet's classes open their own."""

    def test_every_snippet_has_a_setting_and_every_setting_a_snippet(self):
        found = snippets()
        self.assertGreaterEqual(len(found), len(SETTINGS))
        unmatched = [line for line, code in found if setting_of(code) is None]
        self.assertEqual(unmatched, [], "README snippets (by line) with no setting, or more than one, here")
        used = {setting_of(code)[0] for _, code in found}
        self.assertEqual(sorted(set(SETTINGS) - used), [], "settings whose snippet is gone")

def _snippet_test(key: str):
    def test(self):
        found = [(line, code) for line, code in snippets() if setting_of(code) == (key, SETTINGS[key])]
        if not found:
            self.fail(f"No README snippet contains {key!r} (see the test above)")
        setting = SETTINGS[key]
        for line, code in found:
            result, output = run_snippet(line, code, setting)
            if setting.needs_browser and result.testsRun == 0 and result.skipped:
                self.skipTest(f"README snippet at line {line} needs a browser: {result.skipped[0][1]}")
            self.assertGreater(result.testsRun, 0, output)
            problems = unexpected(result, setting)
            self.assertEqual(problems, [], f"README snippet at line {line}:\n{code}\n{output}")
    return test


# One test per snippet, named after what it contains.
for _key in SETTINGS:
    _name = "test_snippet_" + "_".join(re.findall(r"[a-z0-9]+", _key.lower()))[:60].rstrip("_")
    setattr(ReadmeSnippetTests, _name, _snippet_test(_key))
