#!/usr/bin/env python
"""Mutation check of the modules that decide what a run may touch, create and drop.

cosmic-ray (in the `dev` extra) makes the mutants; this script runs, for each
mutant, only the tests that execute the mutated lines. Which tests execute a
line comes from one coverage.py run with dynamic contexts: every test (and
every class set-up/tear-down, run as its class) is its own context.

    python scripts/mutation.py map [TEST...]     # coverage map (default: MAP_TESTS)
    python scripts/mutation.py run [MODULE...]   # mutate (default: every module in MODULES)
    python scripts/mutation.py report [MODULE...]
    python scripts/mutation.py merge DIR...      # results of runs side by side (run --part k/n)

Everything happens in a throw-away copy of the tree ($PU_MUTATION_DIR, default
/tmp/pu-mutation/<branch>), never in this one; results are kept there, so a
second `run` only runs mutants it has no result for (`--again` reruns the
survivors not in mutation_equivalent.json, after new tests were mapped with
`map TEST...`). Run it under
`nice`: one mutant at a time, each test run failing fast (-f) with a timeout.
Not part of CI: it is one test run per mutant.
"""

import argparse
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Short name -> (module file, tests to run for lines no mapped test
# executes, the test modules about it: those that reach a line always run,
# first). The one place to change when modules move.
MODULES = {
    "leaks": ("proper_unittest/databases/leaks.py", [],
              ["tests.databases.test_leaks_decisions", "tests.databases.test_leaks"]),
    "tables": ("proper_unittest/databases/tables.py", [],
               ["tests.databases.test_leaks_decisions", "tests.databases.test_leaks"]),
    "signals": ("proper_unittest/runner/signals.py", ["tests.runner.test_signals"],
                ["tests.runner.test_signals_decisions"]),
    "guard": ("proper_unittest/databases/guard.py", [],
              ["tests.databases.test_guard_decisions", "tests.databases.test_guard"]),
    "safety": ("proper_unittest/databases/safety.py", [],
               ["tests.databases.test_safety_decisions", "tests.databases.test_safety", "tests.databases.test_names"]),
    "transactions": ("proper_unittest/databases/transactions.py", [],
                     ["tests.databases.test_transactions_decisions", "tests.databases.test_transactions"]),
    "sqlite_names": ("proper_unittest/databases/sqlite_names.py", [],
                     ["tests.databases.test_sqlite_names_decisions", "tests.databases.test_sqlite_names"]),
    "provision": ("proper_unittest/databases/provision.py", [],
                  ["tests.databases.test_provision_decisions", "tests.databases.test_preflight_decisions"]),
    # (not test_provision: child runs, 7 s a test)
    "names": ("proper_unittest/databases/names.py", [], ["tests.databases.test_names"]),
}

# Where the tests run; a test mapped on a server is named "backend|test id".
BACKENDS = {
    "sqlite": "sqlite:///:memory:",
    "postgres": "postgresql://postgres@127.0.0.1:5432/{prefix}_test",
    "mysql": "mysql://root@127.0.0.1:3306/{prefix}_test",
}

# The tests that are mapped by default: the library's own, but the runner's
# (slow child runs, of modules not mutated here) except the signal handling's.
MAP_TESTS = ["discover:tests", "!tests.runner.", "tests.runner.test_signals_decisions"]

# Surviving mutants examined: {"module | function | operator | change": why}.
# Equivalent ones (no behaviour can tell them apart) leave the score's
# count; a reason starting "accepted" marks one that counts as a survivor.
EQUIVALENT_FILE = REPO / "scripts" / "mutation_equivalent.json"

TIMEOUT_FACTOR, TIMEOUT_MIN = 3.0, 20.0
# A line many tests reach (the class set-up's) runs all the tests about the
# module that reach it, then the fastest others: MAX_TESTS in all and
# OTHER_TESTS_SECONDS of the others (as mapped) at most.
MAX_TESTS, OTHER_TESTS_SECONDS = 40, 4.0


def work_dir() -> Path:
    """Where the copy, the coverage map and the results live."""
    if os.environ.get("PU_MUTATION_DIR"):
        return Path(os.environ["PU_MUTATION_DIR"])
    branch = subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=REPO,
                            capture_output=True, text=True).stdout.strip() or "main"
    return Path("/tmp/pu-mutation") / branch


def sync_copy(work: Path, name: str = "repo") -> Path:
    """The working tree as it is (committed or not) copied to work/`name`
    (mapping uses a copy of its own: a run mutates its copy in place)."""
    repo = work / name
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (f.decode() for f in files)):
        src, dst = REPO / name, repo / name
        if not src.is_file():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
    return repo


def test_env(repo: Path, backend: str = "sqlite") -> dict[str, str]:
    """The environment of every test run: the copy first on the path, the
    backend's TEST_DATABASE_URL, database names of this branch's own."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(repo)
    # Named for the work dir: two runs at once (PU_MUTATION_DIR) share no database.
    prefix = "".join(c if c.isalnum() else "_" for c in work_dir().name)
    env["TEST_DATABASE_URL"] = BACKENDS[backend].format(prefix=prefix)
    for app in ("NOTES", "FILES", "JOURNAL", "DBCLASS"):
        env[f"{app}_DB_NAME"] = f"{prefix}_{app.lower()}_test"
    env["APP_ENV"] = "test"
    env["PU_MUTATION_CHILD"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant's .pyc could outlive it (same size, same second)
    return env


# --- mapping ---------------------------------------------------------------

def mapped_run(repo: Path, data_file: Path, tests: list[str]) -> None:
    """(In the child) run `tests` under coverage, one context per test/class."""
    import unittest

    import coverage

    include = [str(repo / path) for path, _, _ in MODULES.values()]
    cov = coverage.Coverage(data_file=str(data_file), include=include)
    # Child processes a test starts (a run of an inner suite, the runner)
    # are measured too, their lines credited to that test: a .pth file
    # starts coverage in every Python process of this venv while
    # PU_MUTATION_MAP names the file holding the running test's coverage
    # configuration (removed at the end).
    from coverage.config import CoverageConfig
    import sysconfig

    pth = Path(sysconfig.get_paths()["purelib"]) / "pu_mutation_coverage.pth"
    # (read_text: an open() left to the garbage collector is a ResourceWarning
    # in the child, which a test of warnings would take for its own.)
    pth.write_text("import os, pathlib; f = os.environ.get('PU_MUTATION_MAP'); f and os.path.exists(f) and "
                   "(os.environ.__setitem__('COVERAGE_PROCESS_CONFIG', pathlib.Path(f).read_text()), "
                   "__import__('coverage').process_startup())\n")
    current = Path(str(data_file) + ".current")
    os.environ["PU_MUTATION_MAP"] = str(current)

    def children_credited_to(test_id: str) -> None:
        config = CoverageConfig()
        config.data_file = str(data_file) + ".sub"
        config.parallel = True
        config.run_include = include
        config.context = test_id
        config.patch = ["fork"]
        current.write_text(config.serialize())

    cov.start()
    suite_cls = unittest.suite.TestSuite
    set_up, tear_down = suite_cls._handleClassSetUp, suite_cls._tearDownPreviousClass

    # Inner test classes (run by a test of the suite) count as that test.
    running: list[str] = []
    durations: dict[str, float] = {}

    def class_set_up(self, test, result):
        if not running:
            cov.switch_context(f"{type(test).__module__}.{type(test).__qualname__}")
        return set_up(self, test, result)

    def class_tear_down(self, test, result):
        previous = getattr(result, "_previousTestClass", None)
        if not running and previous is not None and previous is not type(test):
            cov.switch_context(f"{previous.__module__}.{previous.__qualname__}")
        return tear_down(self, test, result)

    suite_cls._handleClassSetUp, suite_cls._tearDownPreviousClass = class_set_up, class_tear_down

    class Result(unittest.TextTestResult):
        def startTest(self, test):
            cov.switch_context(test.id())
            children_credited_to(test.id())
            running.append(test.id())
            durations[test.id()] = time.monotonic()
            super().startTest(test)

        def stopTest(self, test):
            super().stopTest(test)
            running.clear()
            durations[test.id()] = time.monotonic() - durations[test.id()]

    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    excluded = [t[1:] for t in tests if t.startswith("!")]
    for name in tests:
        if name.startswith("!"):
            continue
        if name.startswith("discover:"):
            found = loader.discover(name.split(":", 1)[1], top_level_dir=str(repo))
            suite.addTests(t for t in iter_tests(found)
                           if not any(t.id().startswith(e) for e in excluded))
        else:
            suite.addTests(loader.loadTestsFromName(name))
    runner = unittest.TextTestRunner(resultclass=Result, verbosity=1)
    try:
        outcome = runner.run(suite)
    finally:
        pth.unlink()
        current.unlink(missing_ok=True)
    cov.stop()
    cov.save()
    data_file.with_suffix(".durations.json").write_text(json.dumps(durations))
    failing = [getattr(test, "test_case", test).id() for test, _ in outcome.failures + outcome.errors]
    data_file.with_suffix(".failed.json").write_text(json.dumps({"ran": list(durations), "failed": failing}))
    print(f"mapped {outcome.testsRun} tests, {len(outcome.failures) + len(outcome.errors)} failed")


def iter_tests(suite):
    """Every test case in a (nested) suite."""
    for item in suite:
        if hasattr(item, "__iter__"):
            yield from iter_tests(item)
        else:
            yield item


def build_map(work: Path, repo: Path, tests: list[str], backend: str) -> None:
    """Run the tests mapped, then merge line -> contexts into map.json."""
    data_file = work / f"coverage-{int(time.time())}"
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "_mapped", str(repo), str(data_file), *tests],
                   cwd=repo, env=test_env(repo, backend))
    tag = "" if backend == "sqlite" else f"{backend}|"
    import coverage

    path = work / "map.json"
    lines_map = json.loads(path.read_text()) if path.exists() else {}
    files = [data_file, *data_file.parent.glob(data_file.name + ".sub.*")]
    for one in files:
        data = coverage.CoverageData(basename=str(one))
        data.read()
        for short, (module, _, _) in MODULES.items():
            filename = str(repo / module)
            by_line = lines_map.setdefault(short, {})
            contexts = data.contexts_by_lineno(filename) if filename in data.measured_files() else {}
            for line, names in contexts.items():
                merged = set(by_line.get(str(line), [])) | {tag + n for n in names if n}
                by_line[str(line)] = sorted(merged)
        one.unlink()
    path.write_text(json.dumps(lines_map, indent=0))
    times_path = work / "durations.json"
    times = json.loads(times_path.read_text()) if times_path.exists() else {}
    times.update({tag + n: t for n, t in json.loads(data_file.with_suffix(".durations.json").read_text()).items()})
    times_path.write_text(json.dumps(times, indent=0))
    failed_path = work / "failed.json"
    failed = set(json.loads(failed_path.read_text())) if failed_path.exists() else set()
    outcome = json.loads(data_file.with_suffix(".failed.json").read_text())
    failed = (failed - {tag + n for n in outcome["ran"]}) | {tag + n for n in outcome["failed"]}
    failed_path.write_text(json.dumps(sorted(failed), indent=0))
    print(f"map: {path}")


# --- mutating --------------------------------------------------------------

def mutants(path: Path):
    """cosmic-ray's mutations of one file: (operator, occurrence, start line, end line, source,
    a function making the mutated code (None: no mutant), function name, run at import)."""
    from cosmic_ray.commands.init import _all_work_items
    from cosmic_ray.mutating import mutate_code
    import cosmic_ray.plugins

    source = path.read_text()
    annotations = annotation_spans(source)
    in_bodies = function_body_lines(source)
    for item in _all_work_items([path], {}):
        spec = item.mutations[0]
        if any(start <= tuple(spec.start_pos) < end for start, end in annotations):
            continue  # a type annotation: no behaviour to test
        operator = cosmic_ray.plugins.get_operator(spec.operator_name)()
        # Made when asked (parsing the module each time is what a resumed run would wait for).
        make = (lambda operator=operator, occurrence=spec.occurrence: mutate_code(source, operator, occurrence))
        yield (spec.operator_name, spec.occurrence, spec.start_pos[0], spec.end_pos[0], source, make,
               spec.definition_name or "<module>", spec.start_pos[0] not in in_bodies)


def function_body_lines(source: str) -> set[int]:
    """The lines inside function bodies: the others run once, at import,
    under whichever test imported the module first."""
    import ast

    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for statement in node.body:
                lines.update(range(statement.lineno, (statement.end_lineno or statement.lineno) + 1))
    # A nested function's header (its defaults, its decorators) runs once,
    # when the enclosing function first runs: whoever did that first.
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            lines.difference_update(range(first, node.body[0].lineno))
    return lines


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) (line, column) of every type annotation in `source`."""
    import ast

    spans = []
    for node in ast.walk(ast.parse(source)):
        found = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            found.append(node.returns)
        elif isinstance(node, ast.arg) and node.annotation:
            found.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        spans += [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in found]
    return spans


def diff_of(source: str, mutated: str) -> list[str]:
    """The changed lines, '-' then '+'."""
    return [line for line in difflib.unified_diff(source.splitlines(), mutated.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def mutant_key(short: str, operator: str, changed: list[str]) -> str:
    """A name for a mutant that survives unrelated edits of the module."""
    text = " / ".join(line[0] + line[1:].strip() for line in changed)
    return f"{short} | {operator.split('/')[-1]} | {text}"


def tests_for(short: str, lines_map: dict, first: int, last: int, times: dict[str, float]) -> list[str]:
    """The contexts that executed any of lines first..last (collapsed: a class
    whose set-up reached the line runs whole): those of the test modules
    about the module, then the others, fastest first, MAX_TESTS in all at
    most (but every one of the modules about it; one at least)."""
    names: set[str] = set()
    for line in range(first, last + 1):
        names.update(lines_map.get(short, {}).get(str(line), []))
    names.discard("")
    classes = {n for n in names if n.count(".") and not n.rsplit(".", 1)[1].startswith("test")}
    chosen = [n for n in names if n in classes or not any(n.startswith(c + ".") for c in classes)]
    focus = tuple(f"{prefix}." for prefix in MODULES[short][2])

    def about(name: str) -> bool:
        return name.split("|")[-1].startswith(focus)

    ordered = sorted(chosen, key=lambda n: (not about(n), seconds_of(n, times), n))
    picked, budget = [], OTHER_TESTS_SECONDS
    for name in ordered:
        if not about(name):
            budget -= seconds_of(name, times)
            if (budget < 0 and picked) or len(picked) >= MAX_TESTS:  # one at least
                break
        picked.append(name)
    return picked


def seconds_of(name: str, times: dict[str, float]) -> float:
    """How long a test (or a whole class) took when mapped."""
    return times.get(name) or sum(t for n, t in times.items() if n.startswith(name + ".")) or 1.0


def test_module(test: str) -> str:
    """The module part of a test id (classes are capitalized)."""
    parts = test.split(".")
    while len(parts) > 1 and (parts[-1][:1].isupper() or parts[-1].startswith("test") and parts[-2][:1].isupper()):
        parts.pop()
    return ".".join(parts)


def preload(repo: Path, tests: list[str]) -> None:
    """Import, in this process, every module `tests` import but the
    package's and the tests' own: each mutant's run is then a fork that
    imports only those (from the mutated copy)."""
    os.environ.update(test_env(repo))
    code = ("import sys, unittest; unittest.TestLoader().loadTestsFromNames(sys.argv[1:]); "
            "print('\\n'.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code, *tests], cwd=repo, env=test_env(repo),
                         capture_output=True, text=True).stdout.split()
    import importlib
    import warnings
    for name in out:
        if name.split(".")[0] in ("proper_unittest", "tests", "__main__") or name in sys.modules:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that cannot be preloaded is imported by the fork
            pass


def run_tests(repo: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    """killed / survived / timeout and the seconds: `tests` ("backend|id"
    for a server's) run one backend after the other, until one fails."""
    total = 0.0
    for backend in BACKENDS:
        group = [t.split("|")[-1] for t in tests if (t.split("|")[0] if "|" in t else "sqlite") == backend]
        if group:
            outcome, seconds = run_group(repo, backend, group, timeout - total)
            total += seconds
            if outcome != "survived":
                return outcome, total
    return "survived", total


def run_group(repo: Path, backend: str, tests: list[str], timeout: float) -> tuple[str, float]:
    """killed / survived / timeout, and the seconds it took: `tests` run
    in a fork of this process, in its own process group."""
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: run the tests, never return
        code = 3
        try:
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.chdir(repo)
            os.environ.clear()
            os.environ.update(test_env(repo, backend))
            sys.path.insert(0, str(repo))
            sys.dont_write_bytecode = True
            import unittest
            program = unittest.main(module=None, argv=["unittest", "-f", "-q", *tests], exit=False)
            code = 0 if program.result.wasSuccessful() else 1
        finally:
            os._exit(code)
    deadline = start + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return ("survived" if code == 0 else "killed"), time.monotonic() - start
        if time.monotonic() > deadline:
            for target in (-pid, pid):
                try:
                    os.kill(target, 9)
                except OSError:
                    pass
            os.waitpid(pid, 0)
            return "timeout", time.monotonic() - start
        time.sleep(0.05)


def run_module(work: Path, repo: Path, short: str, again: bool, part: tuple[int, int] = (1, 1)) -> None:
    """Every mutant of one module, against the tests that reach its lines
    (`part` (k, n): only the k-th of every n, for n runs side by side, each
    with a work dir of its own; see `merge`)."""
    module, fallback, focus = MODULES[short]
    path = repo / module
    lines_map = json.loads((work / "map.json").read_text())
    times = json.loads((work / "durations.json").read_text())
    results_path = work / f"results-{short}.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    original = path.read_text()
    digest = hashlib.sha1(original.encode()).hexdigest()
    if results.get("_source") != digest:
        results = {"_source": digest}
    failed = set(json.loads((work / "failed.json").read_text())) if (work / "failed.json").exists() else set()
    every = sorted({t for lines in lines_map.get(short, {}).values() for t in lines if t} | set(fallback))
    preload(repo, sorted({test_module(t.split("|")[-1]) for t in every}))
    for cache in path.parent.glob(f"__pycache__/{path.stem}.*"):
        cache.unlink()
    try:
        index = results.setdefault("_index", {})  # "operator#occurrence" -> its result's key
        examined = json.loads(EQUIVALENT_FILE.read_text()) if EQUIVALENT_FILE.exists() else {}
        for number, (operator, occurrence, first, last, source, make, definition, at_import) in enumerate(
                mutants(path)):
            if number % part[1] != part[0] - 1:
                continue
            known = results.get(index.get(f"{operator}#{occurrence}", ""))
            if known and not (again and known["outcome"] in ("survived", "not covered")
                              and known.get("equivalence_key") not in examined):
                continue
            mutated = make()
            if mutated is None:
                continue
            changed = diff_of(source, mutated)
            key = mutant_key(short, operator, changed)
            key_occ = f"{key} #{occurrence}"
            index[f"{operator}#{occurrence}"] = key_occ
            # How scripts/mutation_equivalent.json names it: with the function it is in.
            equivalence_key = f"{short} | {definition} | {key.split(' | ', 2)[1]} | {key.split(' | ', 2)[2]}"
            done = results.get(key_occ)
            if done and not (again and done["outcome"] in ("survived", "not covered")):
                continue
            # Tests that failed when mapped (unmutated) cannot tell.
            tests = [t for t in tests_for(short, lines_map, first, last, times) if t not in failed] or fallback
            if at_import:  # run at import: the whole modules about it tell
                modules = [m for m in focus if (repo / (m.replace(".", "/") + ".py")).exists()]
                servers = {t.split("|")[0] for t in every if "|" in t}
                tests = sorted(set(tests) | set(modules) | {f"{b}|{m}" for b in servers for m in modules})
            if not tests:
                results[key_occ] = {"outcome": "not covered", "line": first, "diff": changed, "tests": [],
                                    "equivalence_key": equivalence_key}
                continue
            path.write_text(mutated)
            timeout = max(TIMEOUT_MIN, TIMEOUT_FACTOR * sum(seconds_of(t, times) for t in tests))
            outcome, seconds = run_tests(repo, tests, timeout)
            if outcome == "timeout":  # a busy machine, or a mutant that hangs: once more, with more time
                outcome, seconds = run_tests(repo, tests, 3 * timeout)
            path.write_text(original)
            results[key_occ] = {"outcome": outcome, "line": first, "diff": changed, "tests": tests,
                                "equivalence_key": equivalence_key}
            print(f"{outcome:9} {short}:{first} {operator.split('/')[-1]} ({len(tests)} tests, {seconds:.1f}s)",
                  flush=True)
            results_path.write_text(json.dumps(results, indent=1))
    finally:
        path.write_text(original)
        results_path.write_text(json.dumps(results, indent=1))


def report(work: Path, shorts: list[str]) -> None:
    """Per module: mutants, killed, equivalent, score; then the survivors."""
    equivalent = json.loads(EQUIVALENT_FILE.read_text()) if EQUIVALENT_FILE.exists() else {}
    print("| module | mutants | killed | equivalent | score |")
    print("|---|---|---|---|---|")
    survivors = []
    for short in shorts:
        path = work / f"results-{short}.json"
        if not path.exists():
            continue
        results = {k: v for k, v in json.loads(path.read_text()).items() if not k.startswith("_")}
        killed = sum(r["outcome"] in ("killed", "timeout") for r in results.values())
        equiv = [k for k, r in results.items() if r["outcome"] not in ("killed", "timeout")
                 and not equivalent.get(r.get("equivalence_key"), "accepted").startswith("accepted")]
        left = [(k, r) for k, r in results.items() if r["outcome"] not in ("killed", "timeout") and k not in equiv]
        counted = len(results) - len(equiv)
        score = 100.0 * killed / counted if counted else 100.0
        print(f"| `{MODULES[short][0].removeprefix('proper_unittest/')}` | {len(results)} | {killed} "
              f"| {len(equiv)} | {score:.1f}% |")
        survivors += left
    for key, result in survivors:
        why = equivalent.get(result.get("equivalence_key"), "not examined yet")
        print(f"\n{result['outcome']} (line {result['line']}, {len(result['tests'])} tests): "
              f"{result.get('equivalence_key', key)}\n    {why}")


def merge(work: Path, others: list[Path]) -> None:
    """Take into this work dir's results those of the work dirs `others`
    (runs of other parts, of the same source): a kill anywhere counts."""
    for short in MODULES:
        path = work / f"results-{short}.json"
        results = json.loads(path.read_text()) if path.exists() else {}
        for other in others:
            theirs_path = other / f"results-{short}.json"
            if not theirs_path.exists():
                continue
            theirs = json.loads(theirs_path.read_text())
            if results.get("_source", theirs["_source"]) != theirs["_source"]:
                sys.exit(f"{theirs_path}: results of another version of the module")
            results["_source"] = theirs["_source"]
            results.setdefault("_index", {}).update(theirs.get("_index", {}))
            for key, result in theirs.items():
                mine = results.get(key)
                if not key.startswith("_") and (mine is None or mine["outcome"] not in ("killed", "timeout")):
                    results[key] = result
        if results:
            path.write_text(json.dumps(results, indent=1))


def main() -> None:
    """Command line."""
    if len(sys.argv) > 1 and sys.argv[1] == "_mapped":
        mapped_run(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["map", "run", "report", "merge"])
    parser.add_argument("names", nargs="*", help="tests to map, or modules to mutate/report")
    parser.add_argument("--backend", choices=list(BACKENDS), default="sqlite", help="where `map` runs the tests")
    parser.add_argument("--again", action="store_true", help="rerun the survivors not examined yet")
    parser.add_argument("--part", default="1/1", help="k/n: run only the k-th of every n mutants")
    args = parser.parse_intermixed_args()
    work = work_dir()
    work.mkdir(parents=True, exist_ok=True)
    if args.command == "map":
        repo = sync_copy(work, "map-repo")
        build_map(work, repo, args.names or MAP_TESTS, args.backend)
    elif args.command == "run":
        repo = sync_copy(work, work.name)  # the tests name their server databases for it
        k, n = (int(x) for x in args.part.split("/"))
        for short in args.names or list(MODULES):
            run_module(work, repo, short, args.again, (k, n))
        report(work, args.names or list(MODULES))
    elif args.command == "merge":
        merge(work, [Path(name) for name in args.names])
    else:
        report(work, args.names or list(MODULES))


if __name__ == "__main__":
    main()
