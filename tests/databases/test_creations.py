"""The records of databases being created (a run killed between CREATE
DATABASE and its marker leaves its empty database to the next run), and
the signals held off while a database is created and claimed. The runs
that prove it on the servers are in databases/test_safety.py (OwnershipTests)."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path
from unittest import mock

from proper_unittest.databases import creations as _creations

KEY = ("postgres", "127.0.0.1", 5432, "shop_test")


def finished_process() -> int:
    """The id of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


class RecordTests(unittest.TestCase):
    def setUp(self):
        self.folder = Path(self.enterContext(tempfile.TemporaryDirectory()), "state")
        self.enterContext(mock.patch.dict(os.environ, {_creations.STATE_DIR_ENV: str(self.folder)}))

    def rewrite(self, path: Path, **changes) -> None:
        entry = json.loads(path.read_text())
        entry.update(changes)
        path.write_text(json.dumps(entry))

    def test_an_intent_alone_proves_nothing(self):
        path = _creations.intend(KEY)
        self.assertEqual(json.loads(path.read_text())["state"], "intent")
        self.rewrite(path, pid=finished_process())
        self.assertIsNone(_creations.created_by_a_run_that_is_gone(KEY))

    def test_created_by_a_run_that_is_gone(self):
        path = _creations.intend(KEY)
        _creations.created(path, KEY)
        self.assertIsNone(_creations.created_by_a_run_that_is_gone(KEY), "this process is alive")
        self.rewrite(path, pid=finished_process())
        self.assertEqual(_creations.created_by_a_run_that_is_gone(KEY), path)
        self.assertIsNone(_creations.created_by_a_run_that_is_gone(KEY[:3] + ("other_test",)))

    def test_a_reused_process_id_counts_as_gone(self):
        path = _creations.intend(KEY)
        _creations.created(path, KEY)
        self.rewrite(path, started="1")  # the pid now names a process started later
        self.assertEqual(_creations.created_by_a_run_that_is_gone(KEY), path)

    def test_another_machines_run_proves_nothing(self):
        path = _creations.intend(KEY)
        _creations.created(path, KEY)
        self.rewrite(path, pid=finished_process(), host=socket.gethostname() + "-other")
        self.assertIsNone(_creations.created_by_a_run_that_is_gone(KEY))

    def test_a_file_must_be_the_very_file_created(self):
        key = ("sqlite", "/x/notes_test.sqlite3")
        path = _creations.intend(key)
        _creations.created(path, key, (1, 2))
        self.rewrite(path, pid=finished_process())
        self.assertEqual(_creations.created_by_a_run_that_is_gone(key, (1, 2)), path)
        self.assertIsNone(_creations.created_by_a_run_that_is_gone(key, (1, 3)))
        self.rewrite(path, file=None)
        self.assertIsNone(_creations.created_by_a_run_that_is_gone(key, (1, 2)))

    def test_unreadable_records_prove_nothing(self):
        path = _creations.intend(KEY)
        for text in ("{", "[]", '{"state": "created"}'):
            with self.subTest(text=text):
                path.write_text(text)
                self.assertIsNone(_creations.created_by_a_run_that_is_gone(KEY))

    def test_forget_leaves_no_record_and_keeps_a_configured_folder(self):
        path = _creations.intend(KEY)
        other = _creations.intend(KEY[:3] + ("other_test",))
        self.assertNotEqual(path, other)
        _creations.forget(path)
        self.assertFalse(path.exists())
        self.assertTrue(other.exists(), "another database's record stays")
        _creations.forget(other)
        self.assertEqual(list(self.folder.iterdir()), [], "the empty folder goes")
        self.assertTrue(self.folder.is_dir(), "the configured folder stays")
        _creations.forget(None)

    def test_the_default_folder_goes_when_empty(self):
        tmp = self.folder.parent
        with mock.patch.dict(os.environ, {_creations.STATE_DIR_ENV: "", "TMPDIR": str(tmp)}):
            with mock.patch.object(tempfile, "tempdir", None):
                path = _creations.intend(KEY)
                self.assertEqual(path.parent.parent, tmp / f"proper_unittest-{os.getuid()}")
                _creations.forget(path)
        self.assertEqual(list(tmp.iterdir()), [], "no folder left in the temporary folder")

    def test_nothing_is_looked_up_or_made_before_a_creation(self):
        self.assertIsNone(_creations.created_by_a_run_that_is_gone(KEY))
        self.assertFalse(self.folder.exists())

    @unittest.skipUnless(os.getuid() == 0, "needs to give a folder to another user")
    def test_a_folder_of_another_user_is_not_used(self):
        (self.folder / "creating").mkdir(parents=True)
        os.chown(self.folder / "creating", 12345, 12345)
        self.assertIsNone(_creations.intend(KEY))
        os.chown(self.folder / "creating", 0, 0)
        os.chown(self.folder, 12345, 12345)
        self.assertIsNone(_creations.intend(KEY))


class SignalsDeferredTests(unittest.TestCase):
    def test_signals_wait_for_the_end_of_the_block(self):
        received = []
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
        self.addCleanup(signal.signal, signal.SIGTERM, previous)
        with _creations.signals_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
            self.assertEqual(received, [])
        self.assertEqual(received, [signal.SIGTERM], "delivered once, after the block")
        os.kill(os.getpid(), signal.SIGTERM)
        self.assertEqual(received, [signal.SIGTERM] * 2, "the handler is back")

    def test_sigint_raises_keyboard_interrupt_after_the_block(self):
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a runner's worker ignores it
        self.addCleanup(signal.signal, signal.SIGINT, previous)
        reached = []
        with self.assertRaises(KeyboardInterrupt):
            with _creations.signals_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                reached.append("end of block")
        self.assertEqual(reached, ["end of block"])
        self.assertIs(signal.getsignal(signal.SIGINT), signal.default_int_handler)

    def test_other_threads_leave_the_handlers_alone(self):
        seen = []

        def run():
            with _creations.signals_deferred():
                seen.append(signal.getsignal(signal.SIGTERM))

        before = signal.getsignal(signal.SIGTERM)
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        self.assertEqual(seen, [before])
