"""Files stored through Proper's storage addon go to a temporary folder of
the run (one per worker) and are removed when the test, or for class data
the class, ends; nothing is left after the run."""
import io
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from proper_unittest import InMemoryUpload, ProperTestCase
from proper_unittest.storage_roots import run_folder
from tests.apps.files.main import Attachment, app
from tests.inner import REPO, run_inner

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


class RunTests(unittest.TestCase):
    """Whole runs, in new processes: nothing is left; --parallel workers
    each have their own folder."""

    def test_nothing_left_after_a_parallel_run_and_each_worker_has_its_own_folder(self):
        with tempfile.TemporaryDirectory() as folder:
            project = Path(folder)
            (project / "tests").mkdir()
            (project / "tests" / "__init__.py").write_text("")
            (project / "setup.cfg").write_text("[proper_unittest]\napp = filesapp:app\n")
            app_source = (REPO / "tests" / "apps" / "files" / "main.py").read_text()
            (project / "filesapp.py").write_text(app_source.replace(
                'database_config(os.environ.get("FILES_DB_NAME", "files_test"))',
                '{"type": "peewee.SqliteDatabase", "database": ":memory:"}',
            ).replace("from tests.apps.testdb import database_config", ""))
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
            env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": folder}
            env.pop("PROPER_UNITTEST_WORKER", None)
            run = subprocess.run(
                [sys.executable, "-m", "proper_unittest", "--parallel", "2"],
                cwd=project, env=env, capture_output=True, text=True, timeout=120,
            )
            output = run.stdout + run.stderr
            self.assertEqual(run.returncode, 0, output)
            lines = [line.split(" ", 1) for line in stored.read_text().splitlines()]
            self.assertEqual(sorted(worker for worker, _ in lines), ["1", "2"], output)
            folders = {Path(path).relative_to(project).parts[0] for _, path in lines}
            self.assertEqual(len(folders), 2, f"one folder per worker: {lines}")
            left = [p.name for p in project.iterdir() if p.name.startswith("proper_unittest-storage")]
            self.assertEqual(left, [], output)
            self.assertFalse((project / "temp").exists())
