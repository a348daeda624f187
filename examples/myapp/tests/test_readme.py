"""Every ```python snippet of the library's README, run against this app.

Each snippet is found by a line it contains (SETTINGS below) and run as
what it is: a whole test module (its test classes are run), the body of a
class (the class is made a ProperTestCase and run), or lines of a test
method (run in a ProperTestCase test, or an AsyncChannelTestCase one when
they await), after a few lines of set-up the snippet takes for granted
(a signed-in user, a photo). A snippet without a setting, or a setting
without its snippet, fails the test: a new snippet must be added here.
"""
import contextlib
import io
import re
import textwrap
import unittest
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"
APP_ROOT = Path(__file__).resolve().parents[1]

# What every snippet may use without importing it.
IMPORTS = """\
import multidict
import time_machine
from datetime import UTC, datetime, timedelta
from peewee import IntegrityError
from myapp.models import Message, Photo, User
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
    `before` runs first in a "method" snippet's test. "compile" snippets
    are only compiled (not yet runnable against this app)."""

    kind: str
    before: str = ""


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
    'self.assertSelect(result, "article.photo", count=3)': Setting("compile"),
    'self.client.post("/rooms/general/messages"': Setting("compile"),
    'self.assertFormError(result, "title"': Setting("compile"),
    'cover = self.file_fixture("pixel.png")': Setting("compile"),
    "class ReportCacheTests(ProperTestCase):": Setting("compile"),
    "from proper_unittest import ProperTestCase, allow_network": Setting("compile"),
    'late = pw.DatabaseProxy()           # bound by a model, initialized on first use': Setting("compile"),
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
    # System tests (skipped, as a SystemTestCase is, where no browser is installed)
    "class PhotoFormTests(SystemTestCase):": Setting("module"),
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
    if setting.kind == "compile":
        compile(code, f"README.md, snippet at line {line}", "exec")
        return unittest.TestResult(), ""
    namespace = {"__name__": __name__, "contextlib": contextlib, "APP_ROOT": APP_ROOT}
    exec(compile(snippet_module(code, setting), f"README.md, snippet at line {line}", "exec"), namespace)
    classes = [
        value for name, value in namespace.items()
        if isinstance(value, type) and issubclass(value, unittest.TestCase)
        and value.__module__ == __name__ and name not in ("ProperTestCase", "AsyncChannelTestCase")
    ]
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(cls) for cls in classes)
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream, verbosity=2).run(suite)
    return result, stream.getvalue()


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
        for line, code in found:
            result, output = run_snippet(line, code, SETTINGS[key])
            if SETTINGS[key].kind == "compile":
                continue
            self.assertGreater(result.testsRun, 0, output)
            self.assertTrue(result.wasSuccessful(), f"README snippet at line {line}:\n{code}\n{output}")
    return test


# One test per snippet, named after what it contains.
for _key in SETTINGS:
    _name = "test_snippet_" + "_".join(re.findall(r"[a-z0-9]+", _key.lower()))[:60].rstrip("_")
    setattr(ReadmeSnippetTests, _name, _snippet_test(_key))
