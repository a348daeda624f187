"""The run lock: a database another live run holds is refused with one message."""
from proper_unittest.databases.names import lock_name

from tests.support.runner_projects import ITEM_TESTS, ServerRunTestCase, processes_in
from tests.support.servers import scratch_database


class SecondRunTests(ServerRunTestCase):
    """A database another live run holds: one message, exit 2, nothing touched."""

    def test_refused_before_any_test_with_exit_2(self):
        self.add_tests(ITEM_TESTS)
        held = scratch_database(self.db_name)
        with held:
            held.execute_sql("SELECT pg_advisory_lock(hashtext(%s))", (lock_name(self.db_name),))
            proc = self.run_runner("--junitxml", self.tmp / "junit.xml")
            self.assertEqual(proc.returncode, 2, proc.stderr)
            lines = proc.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, proc.stderr)
            self.assertIn("another test run (another process) is using it", lines[0])
            self.assertEqual(held.get_tables(), [], "the held database was touched")
        self.assertNothingLeft(keep=[self.db_name])


    def test_a_worker_refused_its_database_ends_a_parallel_run_with_exit_2(self):
        # Another run holds worker 1's database: not "worker died", but the
        # refusal, once, exit 2; worker 2 is stopped and drops what it made.
        self.add_tests(ITEM_TESTS + """

    class MoreItemTests(ProperTestCase):
        def test_create(self):
            Item.create(name="y")
            self.assertEqual(Item.select().count(), 1)
""")
        worker_1 = self.db_name + "_w1"
        held = scratch_database(worker_1)
        with held:
            held.execute_sql("SELECT pg_advisory_lock(hashtext(%s))", (lock_name(worker_1),))
            proc = self.run_runner("--parallel", "2", "--junitxml", self.tmp / "junit.xml")
            self.assertEqual(proc.returncode, 2, proc.stderr)
            lines = proc.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, proc.stderr)
            self.assertIn(f"Refusing to use test database {worker_1!r}: another test run (another process) "
                          "is using it", lines[0])
            self.assertEqual(proc.stdout, "")
            self.assertEqual(held.get_tables(), [], "the held database was touched")
        self.assertNothingLeft(keep=[worker_1])
        self.assertEqual(processes_in(self.project), [])
