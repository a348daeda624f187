"""The public API is typed: mypy --strict and pyright (strict) accept the
example app's typed test module and a typical use of the API, and catch the
mistakes typing is there to catch (a misspelled assertion, a request the
async client was not awaited for, a wrong keyword), while the overrides keep
a decorated method's type."""
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Any

from tests.support.inner import REPO


TYPED_EXAMPLE = REPO / "examples" / "myapp" / "tests" / "test_typed.py"

MISTAKES = '''\
from proper_unittest import AsyncChannelTestCase, ProperTestCase, override_cache, override_config


class Sync(ProperTestCase):
    @override_config(DEBUG=True)
    def test_typo(self) -> None:
        self.assertStatuss(self.client.get("/"), 200)

    @override_cache()
    async def test_wrong_keyword(self) -> None:
        self.client.get("/", bodyy=b"")


class Async(AsyncChannelTestCase):
    async def test_not_awaited(self) -> None:
        self.assertContains(self.client.get("/"), "Hello")
        self.client.post("/")


reveal_type(Sync.test_typo)
reveal_type(Sync.test_wrong_keyword)


class Configured(ProperTestCase):
    app = "myapp.main:app"

    def test_app_is_the_app(self) -> None:
        self.assertTrue(self.app.config.DEBUG)
        self.assertStatuss(self.client.get("/"), 200)
'''
#: The lines of MISTAKES with a planted mistake.
MISTAKE_LINES = {7, 11, 16, 17, 29}
#: The line of MISTAKES using ``self.app`` of a class that set ``app`` to a string.
APP_LINE = 28

# The public API as a test module uses it, with no untyped app models in
# the way: both checkers must accept it with every report on (an unknown
# type leaking out of the API is an error here).
TYPICAL_USE = '''\
from datetime import timedelta

from proper_unittest import AsyncChannelTestCase, InMemoryUpload, ProperTestCase, override_cache, override_config


@override_config(DEBUG=True)
class Pages(ProperTestCase):
    client_headers = {"accept": "text/html"}

    def test_requests_and_responses(self) -> None:
        response = self.client.get("/", params={"page": 2}, headers={"x-test": "1"})
        self.assertStatus(response, 200)
        location: str | None = response.headers.get("location")
        self.assertIsNone(location)
        self.assertEqual(response.headers.getall("set-cookie"), ["theme=dark"])
        self.assertEqual(response.headers["content-type"], "text/html")
        self.assertContains(response, "Hello", count=1)
        self.assertTemplateUsed(response, "pages/home.jx")
        self.assertJSON(self.client.post("/api", json={"a": 1}), {"ok": True}, status=201)
        self.client.post("/upload", upload_files=[("file", InMemoryUpload("a.txt", b"x"))])
        self.assertRedirects(self.client.delete("/notes/1").follow(), "/notes")

    @override_cache()
    def test_recorders_and_overrides(self) -> None:
        with self.assertNumQueries(1), self.captureTasks() as tasks:
            self.client.get("/")
        self.assertEqual(tasks.names, ["send_email"])
        with self.assertChanges(lambda: len(self.outbox), by=1):
            self.client.post("/contact", body={"message": "hi"})
        self.assertEmailSent(to="me@example.com", subject="hi")
        self.assertEnqueued("send_email", count=1)
        self.assertBroadcastOn("chat:lobby", {"text": "hi"})
        with override_config(DEBUG=False) as config:
            self.assertFalse(config.DEBUG)
        with self.travel(timedelta(days=1)) as clock:
            clock.shift(60)
        with self.subTest("signed in"):
            self.sign_in(object())
            self.sign_out()


class Live(AsyncChannelTestCase):
    async def test_client_and_cable(self) -> None:
        response = await self.client.post("/notes", body={"title": "a"}, follow_redirects=True)
        self.assertEqual(response.redirect_chain, [("/notes/1", 303)])
        self.assertStatus(await response.follow(), 200)
        session = await self.connect(timeout=2)
        confirmed = await session.subscribe("ChatChannel", room="lobby")
        self.assertEqual(confirmed["type"], "confirm_subscription")
        await session.send_action("ChatChannel", "speak", {"text": "hi"})
        await self.assertReceives(session, {"text": "hi"})
        await self.assertNothingReceived(session)
'''


def run_mypy(*paths: Path) -> str:
    """mypy --strict with the project's configuration, as CI runs it; its
    output. Imported modules are used for their types only (their own
    errors are not reported), as with an installed package."""
    process = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--config-file", str(REPO / "pyproject.toml"),
         "--cache-dir", str(REPO / ".mypy_cache"), *map(str, paths)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    return process.stdout + process.stderr


# No check of pyright's version against PyPI on every run (the network).
PYRIGHT_ENV = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}


def why_pyright_cannot_run() -> str | None:
    """What stops pyright from running here (PyPI's pyright is a wrapper
    that runs pyright's node package), or None."""
    try:
        process = subprocess.run([sys.executable, "-m", "pyright", "--version"], env=PYRIGHT_ENV,
                                 capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as error:
        return f"{type(error).__name__}: {error}"
    if process.returncode != 0 or not process.stdout.startswith("pyright "):
        return (process.stdout + process.stderr).strip()[-500:]
    return None


def run_pyright(*paths: Path) -> list[dict[str, Any]]:
    """pyright with the project's configuration ([tool.pyright]: strict)
    on `paths`; its diagnostics."""
    process = subprocess.run(
        [sys.executable, "-m", "pyright", "--outputjson", "--pythonpath", sys.executable,
         "--project", str(REPO), *map(str, paths)],
        cwd=REPO, env=PYRIGHT_ENV, capture_output=True, text=True, timeout=300,
    )
    try:
        diagnostics: list[dict[str, Any]] = json.loads(process.stdout)["generalDiagnostics"]
    except (ValueError, KeyError):
        raise AssertionError(f"pyright failed:\n{process.stdout}{process.stderr}") from None
    return diagnostics


def describe(diagnostics: list[dict[str, Any]]) -> str:
    """pyright's diagnostics as its text output shows them."""
    return "\n".join(
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['severity']}: {d['message']} ({d.get('rule', '')})"
        for d in diagnostics
    )


@unittest.skipUnless(importlib.util.find_spec("mypy"), "needs mypy: pip install -e .[dev]")
class TypedUserCodeTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls) -> None:
        folder = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        mistakes = folder / "mistakes.py"
        mistakes.write_text(MISTAKES, encoding="utf-8")
        typical = folder / "typical.py"
        typical.write_text(TYPICAL_USE, encoding="utf-8")
        # One run for every module: mypy's start-up is most of the time.
        cls.output = run_mypy(TYPED_EXAMPLE, mistakes, typical)
        cls.example_lines = [line for line in cls.output.splitlines() if "test_typed.py" in line]
        cls.mistake_lines = [line for line in cls.output.splitlines() if "mistakes.py" in line]
        cls.typical_lines = [line for line in cls.output.splitlines() if "typical.py" in line]

    def test_the_typed_example_module_passes_mypy_strict(self) -> None:
        self.assertEqual(self.example_lines, [], self.output)
        self.assertTrue(self.mistake_lines, f"mypy did not check the second module:\n{self.output}")

    def test_a_typical_use_of_the_api_passes_mypy_strict(self) -> None:
        self.assertEqual(self.typical_lines, [], self.output)

    def test_a_misspelled_assertion_is_an_error(self) -> None:
        self.assertIn('mistakes.py:7: error: "Sync" has no attribute "assertStatuss"', self.output)

    def test_a_misspelled_request_option_is_an_error(self) -> None:
        self.assertIn('mistakes.py:11: error: Unexpected keyword argument "bodyy"', self.output)

    def test_the_async_client_must_be_awaited(self) -> None:
        self.assertRegex(
            self.output, r'mistakes.py:16: error: Argument 1 to "assertContains" .* '
                         r'incompatible type "Coroutine\[Any, Any, Response\]"; expected "Response"',
        )

    def test_a_request_left_unawaited_is_an_error(self) -> None:
        self.assertIn('mistakes.py:17: error: Value of type "Coroutine[Any, Any, Response]" must be used', self.output)

    def test_override_decorators_keep_the_method_type(self) -> None:
        self.assertIn('mistakes.py:20: note: Revealed type is "def (self: mistakes.Sync)"', self.output)
        self.assertIn(
            'mistakes.py:21: note: Revealed type is '
            '"def (self: mistakes.Sync) -> typing.Coroutine[Any, Any, None]"', self.output,
        )

    def test_self_app_is_the_app_when_the_class_sets_an_import_string(self) -> None:
        # The plugin in pyproject.toml's [tool.mypy] (proper_unittest.mypy_plugin);
        # without it, 'mistakes.py:28: error: "str" has no attribute "config"'.
        self.assertNotIn(f"mistakes.py:{APP_LINE}:", self.output)
        self.assertIn('mistakes.py:29: error: "Configured" has no attribute "assertStatuss"', self.output)

    def test_exactly_the_planted_mistakes_are_reported(self) -> None:
        errors = [line for line in self.mistake_lines if ": error:" in line]
        self.assertEqual({int(line.split(":")[1]) for line in errors}, MISTAKE_LINES, self.output)


@unittest.skipUnless(importlib.util.find_spec("pyright"), "needs pyright: pip install -e .[dev]")
class PyrightTypedUserCodeTests(unittest.TestCase):
    """The same checks with pyright, strict as [tool.pyright] configures it.
    The mistakes are planted twice: in a module of their own (every report
    on) and in the example app's tests folder, where the reports of unknown
    types are off for the app's untyped models (see pyproject.toml): the
    mistakes must be errors there too."""

    @classmethod
    def setUpClass(cls) -> None:
        problem = why_pyright_cannot_run()
        if problem:
            raise unittest.SkipTest(
                "pyright cannot run here: it needs node, and on its first run the network to "
                f"fetch its node package ({problem})"
            )
        folder = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        mistakes = folder / "mistakes.py"
        mistakes.write_text(MISTAKES, encoding="utf-8")
        typical = folder / "typical.py"
        typical.write_text(TYPICAL_USE, encoding="utf-8")
        # Not a test module name: no test run ever collects it.
        handle, name = tempfile.mkstemp(prefix="_typing_mistakes_", suffix=".py", dir=TYPED_EXAMPLE.parent)
        cls.addClassCleanup(os.unlink, name)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(MISTAKES)
        cls.mistakes = {"a module of its own": mistakes, "the example app": Path(name)}
        cls.typical = typical
        cls.diagnostics = run_pyright(TYPED_EXAMPLE, typical, *cls.mistakes.values())
        cls.output = describe(cls.diagnostics)

    def of(self, path: Path, *severities: str) -> list[dict[str, Any]]:
        """The diagnostics on `path` of these severities (default: errors and warnings)."""
        severities = severities or ("error", "warning")
        return [d for d in self.diagnostics
                if Path(d["file"]).resolve() == path.resolve() and d["severity"] in severities]

    def reported(self, line: int, rule: str, message: str) -> None:
        """Assert both copies of the mistakes have `rule` at `line`, its
        message matching `message`."""
        for where, path in self.mistakes.items():
            with self.subTest(where):
                found = [d for d in self.of(path) if d["range"]["start"]["line"] + 1 == line
                         and d.get("rule") == rule and re.search(message, d["message"])]
                self.assertTrue(found, self.output)

    def test_the_typed_example_module_passes_pyright_strict(self) -> None:
        self.assertEqual(self.of(TYPED_EXAMPLE), [], self.output)
        self.assertTrue(self.of(self.mistakes["the example app"]),
                        f"pyright did not check the mistakes:\n{self.output}")

    def test_a_typical_use_of_the_api_passes_pyright_strict(self) -> None:
        self.assertEqual(self.of(self.typical), [], self.output)

    def test_a_misspelled_assertion_is_an_error(self) -> None:
        self.reported(7, "reportAttributeAccessIssue", r'Cannot access attribute "assertStatuss"')

    def test_a_misspelled_request_option_is_an_error(self) -> None:
        self.reported(11, "reportCallIssue", r'No parameter named "bodyy"')

    def test_the_async_client_must_be_awaited(self) -> None:
        self.reported(16, "reportArgumentType",
                      r'"Coroutine\[Any, Any, Response\]" cannot be assigned to parameter "response" of type "Response"')

    def test_a_request_left_unawaited_is_an_error(self) -> None:
        self.reported(17, "reportUnusedCoroutine", r"Result of async function call is not used")

    def test_override_decorators_keep_the_method_type(self) -> None:
        revealed = {d["range"]["start"]["line"] + 1: d["message"]
                    for d in self.of(self.mistakes["a module of its own"], "information")}
        self.assertEqual(revealed.get(20), 'Type of "Sync.test_typo" is "(self: Sync) -> None"', self.output)
        self.assertRegex(revealed.get(21, ""), r'^Type of "Sync.test_wrong_keyword" is '
                                               r'"\(self: Sync\) -> Coroutine(Type)?\[Any, Any, None\]"$')

    def test_self_app_is_the_app_when_the_class_sets_an_import_string(self) -> None:
        for where, path in self.mistakes.items():
            with self.subTest(where):
                on_the_line = [d for d in self.of(path) if d["range"]["start"]["line"] + 1 == APP_LINE]
                self.assertEqual(on_the_line, [], self.output)
        self.reported(29, "reportAttributeAccessIssue", r'Cannot access attribute "assertStatuss"')

    def test_exactly_the_planted_mistakes_are_reported(self) -> None:
        for where, path in self.mistakes.items():
            with self.subTest(where):
                lines = {d["range"]["start"]["line"] + 1 for d in self.of(path)}
                self.assertEqual(lines, MISTAKE_LINES, self.output)


if __name__ == "__main__":
    unittest.main()


def lenient_editable_install() -> bool:
    """True when this environment has the package as a lenient editable
    install (an import hook that type checkers cannot follow): made before
    the Makefile asked for a strict one; `make setup` replaces it."""
    import site
    return any(Path(folder, "__editable___proper_unittest_0_1_0_finder.py").exists()
               for folder in site.getsitepackages())


@unittest.skipUnless(importlib.util.find_spec("mypy"), "needs mypy: pip install -e .[dev]")
@unittest.skipIf(lenient_editable_install(), "lenient editable install: run `make setup` again")
class InstalledPackageTests(unittest.TestCase):
    def test_mypy_finds_the_installed_package_from_another_folder(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            Path(folder, "elsewhere.py").write_text(
                "from proper_unittest import ProperTestCase\nreveal_type(ProperTestCase.assertEmailSent)\n",
                encoding="utf-8",
            )
            process = subprocess.run(
                [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                 "--cache-dir", str(REPO / ".mypy_cache"), "elsewhere.py"],
                cwd=folder, capture_output=True, text=True, timeout=300,
            )
        output = process.stdout + process.stderr
        self.assertNotIn("Cannot find implementation or library stub", output)
        self.assertIn("elsewhere.py:2: note: Revealed type is \"def (self: proper_unittest", output)
        self.assertIn("subject_contains: str | None", output)
