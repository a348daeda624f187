"""The package's layout: its public API is the listed one, and no module
imports itself back through another (the check is shown to find cycles)."""
import ast
import importlib
import tempfile
import textwrap
import tomllib
import unittest
from collections.abc import Iterator
from pathlib import Path

import proper_unittest

PACKAGE_DIR = Path(proper_unittest.__file__).resolve().parent
REPO = PACKAGE_DIR.parent

#: Everything public: each public module and the names it offers. Every
#: other module of the package is private and may move.
PUBLIC_API = {
    "proper_unittest": """
        AsyncChannelTestCase ConfigurationError ErrorReply InMemoryUpload MissingDriverError NetworkBlockedError
        ProcessStateChanged ProperTestCase ProperTransactionTestCase ReceiveTimeout SystemTestCase
        TestTimeout UnsafeDatabaseError UnsafeServiceError allow_network override_cache override_config
    """.split(),
    "proper_unittest.system": ["SystemTestCase", "expect"],
    "proper_unittest.runner": ["console_main", "main"],
    "proper_unittest.mypy_plugin": ["plugin"],
    "proper_unittest.pytest_plugin": [
        "pytest_addoption", "pytest_collection_modifyitems", "pytest_fixture_setup",
    ],
}
#: What pyproject.toml installs: the console script and the pytest plugin.
ENTRY_POINTS = {
    "scripts": {"proper-unittest": "proper_unittest.runner:console_main"},
    "pytest11": {"proper_unittest": "proper_unittest.pytest_plugin"},
}


class PublicAPITests(unittest.TestCase):

    def test_the_top_level_exports_exactly_the_listed_names(self):
        self.assertEqual(sorted(proper_unittest.__all__), PUBLIC_API["proper_unittest"])
        for name in proper_unittest.__all__:
            with self.subTest(name=name):
                self.assertIsNotNone(getattr(proper_unittest, name))

    def test_every_public_module_offers_its_names(self):
        for module_name, names in PUBLIC_API.items():
            module = importlib.import_module(module_name)
            with self.subTest(module=module_name):
                if hasattr(module, "__all__"):
                    self.assertEqual(sorted(module.__all__), sorted(names))
                self.assertEqual([name for name in names if not hasattr(module, name)], [])

    def test_python_dash_m_and_the_entry_points(self):
        self.assertTrue((PACKAGE_DIR / "__main__.py").is_file())
        project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
        self.assertEqual(project["scripts"], ENTRY_POINTS["scripts"])
        self.assertEqual(project["entry-points"]["pytest11"], ENTRY_POINTS["pytest11"])

    def test_no_module_named_like_a_test_and_no_underscore_in_subpackages(self):
        modules = sorted(_modules(PACKAGE_DIR, "proper_unittest"))
        self.assertEqual([m for m in modules if any(part.startswith("test_") for part in m.split("."))], [])
        # An underscore marks plumbing only: the mixins' typing base.
        private = [m for m in modules if m.count(".") > 1 and m.rpartition(".")[2].startswith("_")
                   and not m.endswith("__init__")]
        self.assertEqual(private, ["proper_unittest.assertions._base"])


class ImportCycleTests(unittest.TestCase):

    def test_no_import_cycle_in_the_package(self):
        graph = import_graph(PACKAGE_DIR, "proper_unittest")
        self.assertGreater(len(graph), 50)  # it read the package
        self.assertEqual(find_cycles(graph), [])

    def test_the_graph_has_the_imports_a_module_makes(self):
        graph = import_graph(PACKAGE_DIR, "proper_unittest")
        self.assertIn("proper_unittest.client.response", graph["proper_unittest.client.client"])
        # Inside a function: recording.recorder parses Turbo Streams on demand.
        self.assertIn("proper_unittest.client.turbo", graph["proper_unittest.recording.recorder"])
        # Relative, in runner/.
        self.assertIn("proper_unittest.runner.cli", graph["proper_unittest.runner"])
        self.assertEqual(graph["proper_unittest.client.response"], set())

    def test_the_check_finds_cycles(self):
        # A tiny package with a cycle of each kind: module level, inside a
        # function, relative, and through a subpackage's __init__; one that
        # only a type checker follows is not a cycle.
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp, "pkg")
            _write(root, {
                "__init__.py": "",
                "a.py": "from pkg import b\n",
                "b.py": "def later():\n    from .a import x\n",
                "c.py": "import pkg.d\n",
                "d.py": "from . import c\n",
                "e.py": "from pkg.sub.f import y\n",
                "sub/__init__.py": "from pkg import e\n",
                "sub/f.py": "y = 1\n",
                "g.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.h import z\n",
                "h.py": "from pkg import g\n",
            })
            cycles = find_cycles(import_graph(root, "pkg"))
        self.assertEqual(sorted(cycles), [
            ["pkg.a", "pkg.b", "pkg.a"],
            ["pkg.c", "pkg.d", "pkg.c"],
            ["pkg.e", "pkg.sub", "pkg.e"],
        ])
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp, "pkg")
            _write(root, {"__init__.py": "", "a.py": "import pkg.a\n", "b.py": "import pkg.a\n"})
            self.assertEqual(find_cycles(import_graph(root, "pkg")), [["pkg.a", "pkg.a"]])


# ---- the checker ----------------------------------------------------------


def _modules(package_dir: Path, package: str) -> Iterator[str]:
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join((package, *parts))


def import_graph(package_dir: Path, package: str) -> dict[str, set[str]]:
    """{module: the package's modules it imports}, from every import
    statement (module level and inside functions; relative ones resolved).
    Importing ``a.b.c`` runs ``a.b``'s ``__init__`` too: an edge to each
    subpackage on the way, but the top package and the module's own
    packages, which ran before it (an explicit ``from package import
    name`` is an edge to that package).
    Imports under ``if TYPE_CHECKING:`` are left out: they never run."""
    modules = set(_modules(package_dir, package))
    graph: dict[str, set[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join((package, *(parts[:-1] if is_package else parts)))
        here = name if is_package else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            for target in targets:
                if target == package or target.startswith(package + "."):
                    edges.add(target)
                    bits = target.split(".")
                    # The module's own packages ran before it: not an edge.
                    edges.update(ancestor for ancestor in (".".join(bits[:i]) for i in range(2, len(bits)))
                                 if not (name == ancestor or name.startswith(ancestor + ".")))
        graph[name] = {edge for edge in edges if edge in modules}
    return graph


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement but those in ``if TYPE_CHECKING:`` bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per group of modules that import each other (each
    strongly connected component, and each module importing itself), as
    the path ``[a, b, ..., a]`` starting at its first module by name."""
    cycles = []
    for component in _components(graph):
        start = min(component)
        if len(component) == 1 and start not in graph.get(start, ()):
            continue
        # Shortest way back to `start` inside the component.
        paths = {start: [start]}
        queue = [start]
        while queue:
            node = queue.pop(0)
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    cycles.append(paths[node] + [start])
                    queue = []
                    break
                if nxt in component and nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    queue.append(nxt)
    return sorted(cycles)


def _components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                found.append(component)
    return found


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
