"""Files stored through Proper's storage addon go to a temporary folder of the run (one per
worker) and are removed when the test, or for class data the class, ends; a storage service
not on local disk is refused unless the tests opt in."""
import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from proper_unittest import InMemoryUpload, ProperTestCase, override_config
from proper_unittest.isolation.storage_roots import StoredFiles, run_folder

from tests.support.apps.files.main import Attachment, app
from tests.support.cases import make_app
from tests.support.inner import REPO, run_inner, run_suite
from tests.support.outcomes import failure_text
from tests.support.runner_projects import skip_unless_sqlite


APP_FOLDER = Path(app.root_path).parent


class FilesCase(ProperTestCase):
    app = app


def upload(test, name="a.txt", data=b"hello"):
    result = test.client.post("/files", upload_files=[("file", InMemoryUpload(name, data))])
    test.assertStatus(result, 200)
    path = Path(test.client.get(f"/files/{result.body}").body)
    test.assertEqual(path.read_bytes(), data)
    return path


class StorageRootTests(unittest.TestCase):
    def test_a_file_uploaded_in_one_test_is_gone_in_the_next(self):
        paths = []

        class Case(FilesCase):
            @classmethod
            def setUpTestData(cls):
                cls.kept = Attachment(io.BytesIO(b"class data"), filename="class.txt")
                cls.kept.save()

            def test_1_uploads(self):
                paths.append(upload(self))

            def test_2_looks(self):
                paths.append(self.kept.service._get_path(self.kept))
                self.assertFalse(paths[0].exists(), "the first test's file is gone")
                self.assertTrue(paths[1].is_file(), "class-level files stay for the class")

        result, output = run_inner(Case)
        self.assertTrue(result.wasSuccessful(), output)
        uploaded, class_file = paths
        self.assertTrue(uploaded.is_relative_to(run_folder()), uploaded)
        self.assertFalse(class_file.exists(), "class-level files are gone when the class ends")
        self.assertFalse((APP_FOLDER / "temp").exists(), "nothing under the app's own folder")
        self.assertEqual([p for p in run_folder().rglob("*") if p.is_file()], [])

    def test_services_built_before_the_tests_are_redirected_too(self):
        service = Attachment._get_service("local")
        Attachment._services["local"] = service  # built earlier, at its configured root

        class Case(FilesCase):
            def test_local(self):
                stored = Attachment(io.BytesIO(b"x"), filename="x.txt", service_name="local")
                stored.save()
                self.assertTrue(service._get_path(stored).is_relative_to(run_folder()))

        result, output = run_inner(Case)
        self.assertTrue(result.wasSuccessful(), output)



def stored_path(attachment):
    return Path(attachment.service._get_path(attachment))


class ClassFilesTests(unittest.TestCase):
    """Every test starts with the files the class set-up stored as it left
    them, whatever a test before it did to them."""

    def run_class_with_two_files(self, *tests):
        """Run a class whose set-up stores `shared` and `other` ("original")
        with `tests` ((name, function) pairs, in order); return the result."""
        body = {name: function for name, function in tests}

        class Case(FilesCase):
            @classmethod
            def setUpTestData(cls):
                cls.shared = Attachment(InMemoryUpload("shared.txt", "original"))
                cls.shared.save()
                cls.other = Attachment(InMemoryUpload("other.txt", "original"))
                cls.other.save()

        for name, function in body.items():
            setattr(Case, name, function)
        result, output = run_inner(Case)
        self.assertEqual([p for p in run_folder().rglob("*") if p.is_file()], [],
                         "class files and their copies are gone when the class ends")
        return result, output

    def test_a_class_file_overwritten_or_deleted_by_a_test_is_back_for_the_next(self):
        def test_1_overwrites_and_deletes(test):
            stored_path(test.shared).write_text("overwritten by test_1")
            stored_path(test.other).unlink()

        def test_2_sees_them_as_set_up(test):
            test.assertEqual(test.shared.download(), b"original")
            test.assertEqual(stored_path(test.other).read_bytes(), b"original")

        result, output = self.run_class_with_two_files(
            ("test_1_overwrites_and_deletes", test_1_overwrites_and_deletes),
            ("test_2_sees_them_as_set_up", test_2_sees_them_as_set_up),
        )
        self.assertTrue(result.wasSuccessful(), output)

    def test_a_class_file_overwritten_in_place_with_the_same_size_is_noticed(self):
        def test_1_overwrites_same_size(test):
            with open(stored_path(test.shared), "r+b") as file:
                file.write(b"ORIGINAL")  # same size, same inode, at once after the set-up

        def test_2_sees_it_as_set_up(test):
            test.assertEqual(test.shared.download(), b"original")

        result, output = self.run_class_with_two_files(
            ("test_1_overwrites_same_size", test_1_overwrites_same_size),
            ("test_2_sees_it_as_set_up", test_2_sees_it_as_set_up),
        )
        self.assertTrue(result.wasSuccessful(), output)

    def test_a_class_file_purged_by_a_test_is_back_for_the_next(self):
        def test_1_purges(test):
            test.shared.purge()  # the README's example; its row comes back with the rollback

        def test_2_sees_it_stored(test):
            test.assertStored(test.shared, content=b"original")

        def test_3_deletes_its_folder(test):
            import shutil
            shutil.rmtree(stored_path(test.other).parent.parent)

        def test_4_sees_both(test):
            test.assertStored(test.shared, content=b"original")
            test.assertStored(test.other, content=b"original")

        result, output = self.run_class_with_two_files(
            ("test_1_purges", test_1_purges),
            ("test_2_sees_it_stored", test_2_sees_it_stored),
            ("test_3_deletes_its_folder", test_3_deletes_its_folder),
            ("test_4_sees_both", test_4_sees_both),
        )
        self.assertTrue(result.wasSuccessful(), output)


class ServiceRootTests(unittest.TestCase):
    """A test that moves a Disk service elsewhere does not take the next
    test's files with it."""

    def run_captured(self, *classes):
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            result, output = run_inner(*classes)
        return result, output, stderr.getvalue()

    def test_a_service_root_pointed_elsewhere_is_put_back_and_the_test_named(self):
        elsewhere = self.enterContext(tempfile.TemporaryDirectory())

        class Case(FilesCase):
            def test_1_points_it_elsewhere(self):
                Attachment._get_service(self.app.config.STORAGE).root = Path(elsewhere)

            def test_2_stores(self):
                self.assertTrue(upload(self).is_relative_to(run_folder()))

        result, output, stderr = self.run_captured(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(list(Path(elsewhere).iterdir()), [])
        self.assertIn(f"proper_unittest: {Case.__module__}.", stderr)
        self.assertIn("Case.test_1_points_it_elsewhere changed the root of the storage service 'test'", stderr)
        self.assertNotIn("test_2_stores", stderr)

    def test_a_disk_service_built_during_a_test_does_not_outlive_it(self):
        elsewhere = self.enterContext(tempfile.TemporaryDirectory())
        built = Attachment._services.pop("test", None)  # built by the test itself
        if built is not None:
            self.addCleanup(Attachment._services.__setitem__, "test", built)

        class Case(FilesCase):
            def test_1_builds_it_elsewhere(self):
                storages = {**self.app.config.STORAGES, "test": {"type": "Disk", "root": elsewhere}}
                with override_config(STORAGES=storages):
                    upload(self)

            def test_2_stores(self):
                self.assertTrue(upload(self).is_relative_to(run_folder()))

        result, output, stderr = self.run_captured(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertIn("Case.test_1_builds_it_elsewhere built the storage service 'test'", stderr)

    def test_a_new_disk_service_built_during_a_test_is_gone_for_the_next(self):
        elsewhere = self.enterContext(tempfile.TemporaryDirectory())

        class Case(FilesCase):
            def test_1_builds_another(self):
                storages = {**self.app.config.STORAGES, "extra": {"type": "Disk", "root": elsewhere}}
                with override_config(STORAGES=storages):
                    Attachment(InMemoryUpload("extra.txt", "x"), service_name="extra").save()

            def test_2_finds_it_gone(self):
                self.assertNotIn("extra", Attachment._services)

        result, output, _ = self.run_captured(Case)
        self.assertTrue(result.wasSuccessful(), output)


class ListingLeftForTheNextTestTests(unittest.TestCase):
    """A test whose roots hold at its end just what they held at its start
    leaves its listing to the next test's start, and only then."""

    def setUp(self):
        self.root = Path(self.enterContext(tempfile.TemporaryDirectory()))
        (self.root / "kept.txt").write_text("class data")
        self.roots = [str(self.root)]
        self.addCleanup(StoredFiles, [])  # leaves nothing behind for whatever runs next
        # As outside pytest (under it, nothing is ever left: see the pytest test).
        running = os.environ.pop("PYTEST_CURRENT_TEST", None)
        if running is not None:
            self.addCleanup(os.environ.__setitem__, "PYTEST_CURRENT_TEST", running)

    def clean_test_files(self):
        files = StoredFiles.for_test(self.roots)
        files.remove_new(test=True)
        return files

    def test_a_test_that_stored_nothing_leaves_it_once(self):
        files = self.clean_test_files()
        self.assertIs(StoredFiles.for_test(self.roots), files)
        self.assertIsNot(StoredFiles.for_test(self.roots), files)

    def test_a_test_that_stored_a_file_has_it_removed_and_leaves_nothing(self):
        files = self.clean_test_files()
        again = StoredFiles.for_test(self.roots)
        self.assertIs(again, files)
        (self.root / "ab").mkdir()
        (self.root / "ab" / "new.txt").write_text("stored")
        again.remove_new(test=True)
        self.assertEqual(sorted(p.name for p in self.root.iterdir()), ["kept.txt"])
        self.assertIsNot(StoredFiles.for_test(self.roots), files)

    def test_a_test_that_removed_a_file_leaves_nothing(self):
        files = StoredFiles.for_test(self.roots)
        (self.root / "kept.txt").unlink()
        files.remove_new(test=True)
        fresh = StoredFiles.for_test(self.roots)
        self.assertIsNot(fresh, files)
        self.assertEqual(fresh.before, set())

    def test_another_listing_in_between_or_other_roots_take_it_away(self):
        files = self.clean_test_files()
        StoredFiles(self.roots)  # a class's set-up
        self.assertIsNot(StoredFiles.for_test(self.roots), files)
        files = self.clean_test_files()
        self.assertIsNot(StoredFiles.for_test([str(self.root / "other")]), files)

    def test_not_under_pytest_whose_fixtures_run_between_tests(self):
        files = self.clean_test_files()
        os.environ["PYTEST_CURRENT_TEST"] = "test_x.py::test_x (setup)"
        try:
            self.assertIsNot(StoredFiles.for_test(self.roots), files)
        finally:
            del os.environ["PYTEST_CURRENT_TEST"]

    def test_every_test_of_a_class_still_has_its_files_removed(self):
        paths = []

        class Case(FilesCase):
            def test_1_stores_nothing(self):
                pass

            def test_2_uploads(self):
                paths.append(upload(self, "two.txt"))

            def test_3_stores_nothing(self):
                self.assertFalse(paths[0].exists())

            def test_4_uploads(self):
                paths.append(upload(self, "four.txt"))

            def test_5_looks(self):
                self.assertFalse(paths[1].exists())

        result, output = run_inner(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(len(paths), 2)
        self.assertEqual([p for p in run_folder().rglob("*") if p.is_file()], [])


class RunTests(unittest.TestCase):
    """Whole runs, in new processes: nothing is left; --parallel workers
    each have their own folder."""

    def test_nothing_left_after_a_parallel_run_and_each_worker_has_its_own_folder(self):
        with tempfile.TemporaryDirectory() as folder:
            project = Path(folder)
            (project / "tests").mkdir()
            (project / "tests" / "__init__.py").write_text("")
            (project / "setup.cfg").write_text("[proper_unittest]\napp = filesapp:app\n")
            app_source = (REPO / "tests" / "support" / "apps" / "files" / "main.py").read_text()
            (project / "filesapp.py").write_text(app_source.replace(
                'database_config(os.environ.get("FILES_DB_NAME", "files_test"))',
                '{"type": "peewee.SqliteDatabase", "database": ":memory:"}',
            ).replace("from tests.support.apps.testdb import database_config", ""))
            stored = project / "stored.txt"
            for n in (1, 2):
                (project / "tests" / f"test_files{n}.py").write_text(textwrap.dedent(f'''
                    import os
                    from proper_unittest import InMemoryUpload, ProperTestCase

                    class Files{n}(ProperTestCase):
                        def test_upload(self):
                            result = self.client.post("/files", upload_files=[("file", InMemoryUpload("f.txt", b"x"))])
                            path = self.client.get("/files/" + result.body).body
                            with open({str(stored)!r}, "a") as out:
                                out.write(os.environ.get("PROPER_UNITTEST_WORKER", "1") + " " + path + "\\n")
                '''))
            run = run_suite(None, "-m", "proper_unittest", "--parallel", "2", folder=project, env={"TMPDIR": folder})
            output = run.stdout + run.stderr
            self.assertEqual(run.returncode, 0, output)
            lines = [line.split(" ", 1) for line in stored.read_text().splitlines()]
            self.assertEqual(sorted(worker for worker, _ in lines), ["1", "2"], output)
            folders = {Path(path).relative_to(project).parts[0] for _, path in lines}
            self.assertEqual(len(folders), 2, f"one folder per worker: {lines}")
            left = [p.name for p in project.iterdir() if p.name.startswith("proper_unittest-storage")]
            self.assertEqual(left, [], output)
            self.assertFalse((project / "temp").exists())


# A test that stores a file, says where, and waits to be stopped (after
# one that forks).
WAITING_TEST = """
import os
import sqlite3
import threading
import time
from pathlib import Path

from proper_unittest import InMemoryUpload, ProperTestCase


class Files(ProperTestCase):
    app = "tests.support.apps.files.main:app"

    def test_a_fork(self):  # the library's watchdog thread stops: no warning about threads
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)

    def test_b_upload_then_wait(self):
        result = self.client.post("/files", upload_files=[("file", InMemoryUpload("f.txt", b"x"))])
        stored = self.client.get("/files/" + result.body).body
        ready = Path(os.environ["READY_FILE"])
        if not os.environ.get("STUCK_DB"):
            ready.write_text(stored)
            time.sleep(120)
        # Wait in C for a lock another connection holds (said ready once it waits).
        holder = sqlite3.connect(os.environ["STUCK_DB"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        threading.Timer(0.5, ready.write_text, [stored]).start()
        sqlite3.connect(os.environ["STUCK_DB"], timeout=300).execute("CREATE TABLE t (x)")
"""


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class StoppedRunTests(unittest.TestCase):
    """python -m unittest and pytest stopped mid-test by SIGTERM or SIGINT
    leave nothing the library made, and end with the signal's usual status."""

    @classmethod
    def setUpClass(cls):
        skip_unless_sqlite()  # child processes: once per CI matrix

    def test_nothing_is_left_after_sigterm_or_sigint(self):
        # (command, signal, the status it ends with without the library)
        cases = {
            "unittest SIGTERM": (["-m", "unittest", "test_waits"], signal.SIGTERM, -signal.SIGTERM),
            "pytest SIGTERM": (["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_waits.py"],
                               signal.SIGTERM, -signal.SIGTERM),
            "unittest SIGINT": (["-m", "unittest", "test_waits"], signal.SIGINT, -signal.SIGINT),
            "pytest SIGINT": (["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_waits.py"],
                              signal.SIGINT, 2),  # pytest's "interrupted"
            # The main thread cannot handle the signal: the watchdog ends it.
            "unittest SIGTERM, stuck in C": (["-m", "unittest", "test_waits"], signal.SIGTERM, 128 + signal.SIGTERM),
        }
        runs = {}
        for name, (arguments, signum, _) in cases.items():  # all at once: each waits for its signal
            folder = Path(self.enterContext(tempfile.TemporaryDirectory()))
            (folder / "tmp").mkdir()
            (folder / "test_waits.py").write_text(WAITING_TEST)
            env = {
                **os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(folder / "tmp"),
                "READY_FILE": str(folder / "ready"), "TEST_DATABASE_URL": "sqlite:///:memory:",
                "FILES_DB_NAME": str(folder / "files_stopped_test.sqlite3"),
            }
            if "stuck" in name:
                env["STUCK_DB"] = str(folder / "locked.db")
            env.pop("PROPER_UNITTEST_WORKER", None)
            # SIGINT as a terminal's child has it, even when this run was started in the
            # background of a shell without job control (which ignores it, for children too).
            process = subprocess.Popen([sys.executable, *arguments], cwd=folder, env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                       preexec_fn=_default_sigint)
            self.addCleanup(process.kill)
            runs[name] = (folder, process)
        for name, (folder, process) in runs.items():
            with self.subTest(name):
                stored = self.wait_for(folder / "ready", process)
                self.assertTrue(stored.is_file() and stored.is_relative_to(folder / "tmp"), stored)
                self.assertTrue((folder / "files_stopped_test.sqlite3").exists())
                process.send_signal(cases[name][1])
        for name, (folder, process) in runs.items():
            with self.subTest(name):
                output, _ = process.communicate(timeout=60)
                self.assertEqual(process.returncode, cases[name][2], output)
                self.assertNotIn("multi-threaded", output)
                self.assertEqual(list((folder / "tmp").iterdir()), [], output)
                if "stuck" not in name:  # the watchdog removes only the storage folder
                    self.assertEqual(list(folder.glob("*.sqlite3*")), [], output)

    def wait_for(self, ready: Path, process: subprocess.Popen) -> Path:
        """The path the child wrote to `ready`, once it has (it fails if the child ends first)."""
        while not ready.exists() or not ready.read_text():
            if process.poll() is not None:
                self.fail(f"the child ended first: {process.communicate()[0]}")
            __import__("time").sleep(0.05)
        return Path(ready.read_text())


class StorageServiceTests(unittest.TestCase):
    def test_s3_storage_is_refused_with_the_disk_config_to_use(self):
        app = make_app(STORAGE="amazon", STORAGES={
            "amazon": {"type": "S3", "bucket": "b", "region": "us-east-1",
                       "access_key_id": "x", "secret_access_key": "y"},
        })

        class Case(ProperTestCase):
            def test_it(self):
                pass

        Case.app = app
        result, _ = run_inner(Case)
        message = failure_text(result)
        self.assertEqual(result.testsRun, 0)
        self.assertIn("STORAGES['amazon'] (type 'S3')", message)
        self.assertIn('"type": "Disk"', message)

        Case.allow_outside = ("storage",)
        result, _ = run_inner(Case)
        self.assertTrue(result.wasSuccessful(), failure_text(result))
