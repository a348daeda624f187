"""The private APIs of peewee, Proper, asyncio and warnings that the library relies
on (named in proper_unittest.private_apis): each still exists and
behaves as relied on. A new release that changes one fails here first.
No browser needed."""
import asyncio
import importlib
import threading
import unittest
import warnings

import peewee as pw
from proper import App

from proper_unittest import private_apis as _private_apis
from proper_unittest.private_apis import (
    has_shutdown_work, is_as_new, running_loop, set_running_loop, share_connection_state, wrap_database_entry,
)


class PrivateApisTests(unittest.TestCase):
    def test_every_name_relied_on_exists(self):
        owners = {"peewee": pw, "proper": __import__("proper"), "asyncio": asyncio, "warnings": warnings,
                  "proper.storage": importlib.import_module("proper.storage")}
        for owner, names in _private_apis.RELIED_ON.items():
            for name in names:
                with self.subTest(owner=owner, name=name):
                    if "." in name:
                        cls_name, attribute = name.split(".")
                        found = hasattr(self._instance_of(cls_name), attribute)
                        self.assertTrue(found, f"{owner}: {name} is gone")
                    else:
                        self.assertTrue(hasattr(owners[owner], name), f"{owner}: {name} is gone")

    def _instance_of(self, cls_name):
        """An instance of the class `cls_name` (its private attributes are
        set per instance)."""
        if cls_name == "Database":
            return pw.SqliteDatabase(":memory:")
        if cls_name == "App":
            return App(__name__, config={"SECRET_KEYS": ["k" * 64]})
        if cls_name == "Mailers":
            return App(__name__, config={"SECRET_KEYS": ["k" * 64]}).mailers
        if cls_name == "Metadata":
            class Model(pw.Model):
                class Meta:
                    database = pw.SqliteDatabase(":memory:")
            return Model._meta
        if cls_name == "Attachment":  # a class built by app.attachment_for()
            from tests.support.apps.files.main import Attachment
            return Attachment
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        self.assertIsInstance(loop, asyncio.BaseEventLoop)
        if cls_name == "Task":
            task = loop.create_task(asyncio.sleep(0))
            loop.run_until_complete(task)
            return task
        return loop

    def test_a_fresh_loop_has_nothing_to_shut_down(self):
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        self.assertFalse(has_shutdown_work(loop))

    def test_a_loop_that_ran_an_async_generator_or_the_executor_has(self):
        async def numbers():
            yield 1
            yield 2

        async def start_generator():
            generator = numbers()
            await generator.__anext__()
            return generator  # left suspended: shut down with the loop

        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        generator = loop.run_until_complete(start_generator())
        self.assertTrue(has_shutdown_work(loop))
        loop.run_until_complete(loop.shutdown_asyncgens())
        self.assertFalse(has_shutdown_work(loop))
        del generator

        other = asyncio.new_event_loop()
        self.addCleanup(other.close)
        other.run_until_complete(other.run_in_executor(None, int))
        self.assertTrue(has_shutdown_work(other))
        other.run_until_complete(other.shutdown_default_executor())

    def test_a_fresh_loop_is_as_new_and_one_with_a_scheduled_callback_or_a_task_is_not(self):
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        self.assertTrue(is_as_new(loop, loop.get_debug()))
        self.assertFalse(is_as_new(loop, not loop.get_debug()))
        handle = loop.call_later(3600, int)
        self.assertFalse(is_as_new(loop, loop.get_debug()))
        handle.cancel()
        loop.run_until_complete(asyncio.sleep(0))  # a cancelled timer leaves the heap when the loop runs
        self.assertTrue(is_as_new(loop, loop.get_debug()))
        task = loop.create_task(asyncio.Event().wait())
        loop.run_until_complete(asyncio.sleep(0))  # waiting on the event: nothing ready or scheduled
        self.assertFalse(is_as_new(loop, loop.get_debug()))
        task.cancel()
        loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
        self.assertTrue(is_as_new(loop, loop.get_debug()))

    def test_a_loop_with_a_ready_callback_has(self):
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        ran = []
        loop.call_soon(ran.append, "ran")
        self.assertTrue(has_shutdown_work(loop))
        loop.run_until_complete(asyncio.sleep(0))
        self.assertEqual(ran, ["ran"])
        self.assertFalse(has_shutdown_work(loop))

    def test_a_loop_it_cannot_look_into_is_shut_down(self):
        class Opaque:
            pass

        self.assertTrue(has_shutdown_work(Opaque()))

    def test_another_thread_uses_the_shared_connection_and_transaction(self):
        db = pw.SqliteDatabase(":memory:", check_same_thread=False)
        db.connect()
        db.execute_sql("CREATE TABLE t (x INTEGER)")
        seen = {}
        with db.atomic() as transaction:
            db.execute_sql("INSERT INTO t VALUES (1)")
            undo = share_connection_state(db)

            def other_thread():
                seen["rows"] = db.execute_sql("SELECT count(*) FROM t").fetchone()[0]
                seen["depth"] = db.transaction_depth()
                db.execute_sql("INSERT INTO t VALUES (2)")

            worker = threading.Thread(target=other_thread)
            worker.start()
            worker.join()
            undo()
            self.assertEqual(seen, {"rows": 1, "depth": 1})  # the uncommitted row, the same stack
            self.assertEqual(db.transaction_depth(), 1)
            transaction.rollback()
        self.assertEqual(db.execute_sql("SELECT count(*) FROM t").fetchone()[0], 0)
        # Undone: another thread gets a connection of its own again.
        worker = threading.Thread(target=lambda: seen.update(closed=db.is_closed()))
        worker.start()
        worker.join()
        self.assertTrue(seen["closed"])
        db.close()

    def test_app_database_entry_is_wrapped_and_put_back(self):
        app = App(__name__, config={"SECRET_KEYS": ["k" * 64]})
        calls = []

        def wrapper(original):
            def wrapped(work, *, on_error=None):
                calls.append("wrapped")
                return original(work, on_error=on_error)
            return wrapped

        undo = wrap_database_entry(app, wrapper)
        self.assertEqual(app._with_db(lambda: "done"), "done")
        undo()
        self.assertEqual(app._with_db(lambda: "again"), "again")
        self.assertEqual(calls, ["wrapped"])

    def test_the_running_loop_mark_can_be_read_set_and_cleared(self):
        loop = asyncio.new_event_loop()
        try:
            self.assertIsNone(running_loop())
            set_running_loop(loop)
            self.assertIs(asyncio.get_running_loop(), loop)
            set_running_loop(None)
            with self.assertRaises(RuntimeError):
                asyncio.get_running_loop()
        finally:
            set_running_loop(None)
            loop.close()
