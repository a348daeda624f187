"""The public API is typed: mypy --strict accepts the example app's typed
test module, and catches the mistakes typing is there to catch (a
misspelled assertion, a request the async client was not awaited for, a
wrong keyword), while the overrides keep a decorated method's type."""
import importlib.util
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from tests.inner import REPO


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


reveal_type(Sync.test_typo)
reveal_type(Sync.test_wrong_keyword)
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


@unittest.skipUnless(importlib.util.find_spec("mypy"), "needs mypy: pip install -e .[dev]")
class TypedUserCodeTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls) -> None:
        folder = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        mistakes = folder / "mistakes.py"
        mistakes.write_text(MISTAKES, encoding="utf-8")
        # One run for both modules: mypy's start-up is most of the time.
        cls.output = run_mypy(TYPED_EXAMPLE, mistakes)
        cls.example_lines = [line for line in cls.output.splitlines() if "test_typed.py" in line]
        cls.mistake_lines = [line for line in cls.output.splitlines() if "mistakes.py" in line]

    def test_the_typed_example_module_passes_mypy_strict(self) -> None:
        self.assertEqual(self.example_lines, [], self.output)
        self.assertTrue(self.mistake_lines, f"mypy did not check the second module:\n{self.output}")

    def test_a_misspelled_assertion_is_an_error(self) -> None:
        self.assertIn('mistakes.py:7: error: "Sync" has no attribute "assertStatuss"', self.output)

    def test_a_misspelled_request_option_is_an_error(self) -> None:
        self.assertIn('mistakes.py:11: error: Unexpected keyword argument "bodyy"', self.output)

    def test_the_async_client_must_be_awaited(self) -> None:
        self.assertRegex(
            self.output, r'mistakes.py:16: error: Argument 1 to "assertContains" .* '
                         r'incompatible type "Awaitable\[Response\]"; expected "Response"',
        )

    def test_override_decorators_keep_the_method_type(self) -> None:
        self.assertIn('mistakes.py:19: note: Revealed type is "def (self: mistakes.Sync)"', self.output)
        self.assertIn(
            'mistakes.py:20: note: Revealed type is '
            '"def (self: mistakes.Sync) -> typing.Coroutine[Any, Any, None]"', self.output,
        )

    def test_exactly_the_planted_mistakes_are_reported(self) -> None:
        errors = [line for line in self.mistake_lines if ": error:" in line]
        self.assertEqual(len(errors), 3, self.output)


if __name__ == "__main__":
    unittest.main()
