"""The test case classes: ProperTestCase, ProperTransactionTestCase and
AsyncChannelTestCase, and in one place (``_Mixins``) the ordered list of
every mixin they are made of, as Rails' ``test_case.rb``."""
import asyncio
import copy
import inspect
import sys
import unittest
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast
from unittest.case import _subtest_msg_sentinel  # type: ignore[attr-defined]  # private, not in typeshed

import peewee as pw
from proper import current

from proper_unittest.assertions._base import TestCaseMixin
from proper_unittest.assertions.broadcasts import BroadcastAssertions
from proper_unittest.assertions.changes import ChangeAssertions
from proper_unittest.assertions.equality import json_equal
from proper_unittest.assertions.channels import ChannelAssertions
from proper_unittest.assertions.html import HTMLAssertions
from proper_unittest.assertions.responses import ProperAssertions
from proper_unittest.assertions.storage import StorageAssertions
from proper_unittest.assertions.tasks import TaskAssertions
from proper_unittest.assertions.templates import TemplateAssertions
from proper_unittest.assertions.turbo import TurboAssertions
from proper_unittest.channels.connection import ChannelSession, ReceiveTimeout
from proper_unittest.channels.workers import WORKER_GRACE, ChannelWorkers
from proper_unittest.client.client import AsyncProperClient, ProperClient, _ClientBase, close_uploaded_files
from proper_unittest.client.event_loop import one_loop_per_test
from proper_unittest.class_settings import check_class_settings
from proper_unittest.databases import guard
from proper_unittest.databases.leaks import (
    CHECK_AFTER_TEST, EscapedWritesError, WriteWatch, check_setting, explain_escaped,
)
from proper_unittest.databases.provision import claim_app_databases
from proper_unittest.databases.tables import empty_tables, put_back_on_own_databases
from proper_unittest.databases.transactions import (
    ClassTransaction, TestSavepoint, TransactionEnded, explain, reset_database,
)
from proper_unittest.discovery import app_for
from proper_unittest.errors import ConfigurationError
from proper_unittest.isolation import class_context, network, password_cost, termination
from proper_unittest.isolation.app_state import AppState, ConfigSnapshot
from proper_unittest.isolation.lost_async import (
    TaskErrors, explain_unawaited, explain_unfinished, must_be_awaited, take_unawaited, unfinished_checks,
    unretrieved_error,
)
from proper_unittest.isolation.opt_ins import allowed
from proper_unittest.isolation.outlived import LeftRunning
from proper_unittest.isolation.process_state import ProcessState, is_strict, report
from proper_unittest.isolation.server_services import check_server_services
from proper_unittest.isolation.class_files import ClassFiles
from proper_unittest.isolation.storage_roots import DiskServices, StoredFiles, check_storage, redirect_disk_roots
from proper_unittest.isolation.time_travel import TimeTravel
from proper_unittest.isolation.timeout import TIMEOUT_ENV, TimeLimit, limit_for
from proper_unittest.method_shapes import known_to_run, problem_before_call, problem_with_returned
from proper_unittest.recording.app_log import AppLog, ShowsLogOnFailure
from proper_unittest.recording.flight_recorder import ResultWithAppendix
from proper_unittest.recording.flight_recorder import is_enabled as flight_recorder_enabled
from proper_unittest.recording.recorder import RecordingHub, TestRecording
from proper_unittest.recording.time_spent import TimeSpent, is_enabled as time_spent_enabled

# unittest and pytest leave this module's frames out of tracebacks, so that
# a set-up error (re-raised here without its library frames) reads as the
# message about the user's set-up it is.
__unittest = True
__tracebackhide__ = True


_UNSET = object()


def _put_back_run_sync(config: Any, value: Any) -> None:
    """Put the app config's RUN_SYNC back as it was before a class (`_UNSET`:
    it had none)."""
    if value is _UNSET:
        config.pop("RUN_SYNC", None)
    else:
        config.RUN_SYNC = value


class _ProperTestMixin(TestCaseMixin):
    """Class-level set-up and per-test isolation shared by the test cases."""

    #: The app under test: a ``proper.App`` or ``"package.module:attr"``.
    #: When unset, it comes from setup.cfg / pyproject.toml (see README).
    app: Any = None
    #: Headers every request of ``self.client`` sends (e.g. ``{"accept": "application/json"}``).
    client_headers: ClassVar[dict[str, str]] = {}
    #: When to look for rows committed outside the test transaction (by
    #: another thread or connection): ``"class"`` (when the class ends, the
    #: default) or ``"test"`` (after every test, to name it). The
    #: PROPER_UNITTEST_CHECK_WRITES environment variable sets the default.
    check_escaped_writes: str | None = None
    #: Seconds a test method may run before it fails with the stack of
    #: where it was (0 or None: no limit). When unset, the
    #: PROPER_UNITTEST_TIMEOUT environment variable (the runner's
    #: ``--timeout``) gives it.
    timeout: float | None = None
    #: Outside services this class may use as configured, any of
    #: "storage", "cache", "queue", "cable", "network" (see README,
    #: "What is put back after each test"); the project config's
    #: ``allow_outside`` adds to it.
    allow_outside: ClassVar[tuple[str, ...]] = ()
    #: Make a test that changes the process's state (os.environ, the
    #: working directory, sys.path, loggers, signal handlers) or leaves a
    #: thread running an error, instead of a note on stderr.
    #: PROPER_UNITTEST_STRICT_STATE=1 sets it for a run.
    strict_process_state = False
    #: Hash passwords at the app's scheme's minimum cost (the default) or,
    #: set to False, at the app's own cost (a class that tests it). The
    #: project config key ``fast_password_hashing`` and the environment
    #: variable PROPER_UNITTEST_FAST_PASSWORD_HASHING set the default.
    fast_password_hashing: bool | None = None

    #: The test's client (each test case class names its own type).
    client: _ClientBase[Any]

    # Set by setUpClass.
    _databases: ClassVar[dict[int, Any]]
    _app_log: ClassVar[AppLog]
    _class_data: ClassVar["_ClassData[ClassTransaction] | None"]
    _write_watch: ClassVar[WriteWatch | None]
    _test_config: ClassVar[ConfigSnapshot | None] = None
    _storage_roots: ClassVar[list[str]] = []
    _disk_services: ClassVar[DiskServices | None] = None
    _class_files: ClassVar[ClassFiles | None] = None
    _recording_hub: ClassVar[RecordingHub | None] = None
    _network_allowed: ClassVar[bool] = False

    _proper_ready = False
    _client_class: type[_ClientBase[Any]] = ProperClient
    #: False in ProperTransactionTestCase: no transaction around the tests.
    _uses_transactions = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("setUpClass", "tearDownClass"):
            hook = vars(cls).get(name)
            if isinstance(hook, classmethod) and not hasattr(hook.__func__, "__proper_class_context__"):
                setattr(cls, name, classmethod(class_context.runs_inside(hook.__func__)))

    # ---- class level ----

    @classmethod
    @class_context.runs_inside
    def setUpClass(cls) -> None:
        """Find the app, check it is safe to test, prepare its databases,
        save the app's state, then open the class transaction and load
        class data. Runs in the class's own context copy."""
        super().setUpClass()
        try:
            check_class_settings(cls)  # before anything is set up
        except ConfigurationError as error:
            raise error.with_traceback(None)  # the message says it all
        # Before the state is saved: the handler is part of what is put back.
        termination.install()
        # Registered first, so it runs last: what the class set-up and its
        # tests changed in the process is put back after everything else.
        process_state = ProcessState()
        cls.addClassCleanup(report, f"the class {cls.__qualname__}", process_state, is_strict(cls))
        # Every connection from here to the class clean-ups' end must go to
        # a database the run proved.
        cls.enterClassContext(guard.guarding(f"the set-up or clean-up of {cls.__qualname__}"))
        try:
            app = app_for(cls)
            check_server_services(app, cls)
            check_storage(app, cls)
            cls._network_allowed = allowed(cls, "network") or network.is_allowed_for(cls)
            fast_hashing = password_cost.wanted(cls)
            databases = {id(db): db for db in claim_app_databases(app, cls.__qualname__)}
        except ConfigurationError as error:
            raise error.with_traceback(None)  # the message says it all

        cls.addClassCleanup(network.enter(
            f"{cls.__qualname__} (class set-up)", allow_all=cls._network_allowed,
            servers=network.app_servers(app),
        ))
        disk_roots = redirect_disk_roots(app)
        cls._storage_roots = list(disk_roots.values())
        cls._disk_services = DiskServices(app, disk_roots) if disk_roots else None
        if cls._storage_roots:
            cls.addClassCleanup(StoredFiles(cls._storage_roots).remove_new)
        cls.addClassCleanup(password_cost.cost_for_class(app, fast_hashing))

        cls.app = app
        cls._databases = databases
        guard.limit_to(databases.values())
        # Each test's clients set it (Proper's TestClient does, to run
        # requests inline); set for the class, before the class's snapshot
        # of the app's state (and put back after that is restored), it is
        # part of the config every test starts with, so the class's one
        # config snapshot serves every test too.
        cls.addClassCleanup(_put_back_run_sync, app.config, app.config.get("RUN_SYNC", _UNSET))
        app.config.RUN_SYNC = True
        # Class cleanups run last-registered first: the app's state is put
        # back last, after the class data is gone and checked.
        class_state = AppState(app)
        cls.addClassCleanup(class_state.restore)
        cls._app_log = AppLog()
        cls._app_log.install(app)
        cls.addClassCleanup(cls._app_log.uninstall)
        # The tests' recordings note through wrappers put on once for the class.
        hub = RecordingHub(app, databases.values(), record_sql=flight_recorder_enabled(cls)).install()
        cls.addClassCleanup(hub.uninstall)
        cls._recording_hub = hub
        cls.addClassCleanup(setattr, cls, "_recording_hub", None)
        if close_uploaded_files not in app._on_teardown:
            app.on_teardown(close_uploaded_files)

        cls._class_data = None
        cls._write_watch = None
        cls._test_config = class_state.config
        cls.addClassCleanup(setattr, cls, "_test_config", None)
        if cls._uses_transactions:
            cls._write_watch = WriteWatch(databases.values())
            cls.addClassCleanup(cls._check_escaped_writes)
            cls.addClassCleanup(cls._close_class_data)
            cls._open_class_data()
        if cls._storage_roots:
            # Every test starts with the files as the class set-up left them.
            cls._class_files = ClassFiles(cls._storage_roots)
            cls.addClassCleanup(cls._class_files.discard)
        cls._proper_ready = True
        cls.addClassCleanup(setattr, cls, "_proper_ready", False)
        cls.addClassCleanup(class_context.forget, cls)

    @classmethod
    def _config_at_test_start(cls) -> ConfigSnapshot:
        """The config as every test of the class starts with it: one
        snapshot per class, taken again if the config no longer matches it
        (a pytest fixture around the test changed it, say)."""
        snapshot = cls._test_config
        if snapshot is None or not snapshot.matches(cls.app.config):
            snapshot = cls._test_config = ConfigSnapshot(cls.app.config)
        return snapshot

    @classmethod
    def load_fixtures(cls) -> None:
        """Hook: insert the base rows every test of the class starts with
        (lookup tables, a default account). Runs once per class, inside the
        class transaction; rolled back when the class is done."""

    @classmethod
    def setUpTestData(cls) -> None:
        """Hook: create class-level data (``cls.user = User.create(...)``)
        once for all tests of the class; rolled back when the class is done.
        Each test gets its own copy of the attributes set here."""

    @classmethod
    def _open_class_data(cls) -> None:
        """Open the class transaction and run the class-data hooks in it;
        fail (after cleaning up) if they ended it."""
        transaction = ClassTransaction(cls._databases.values()).begin()
        cls._class_data = _ClassData(cls, transaction)
        cls._class_data.load()
        # Without a hook of the class's own nothing ran in the transaction
        # yet: the first test's full check covers it (a query on MySQL).
        found = transaction.problems() if cls._has_class_data_hooks() else {}
        if found:
            data, cls._class_data = cls._class_data, None
            data.close(found)
            raise TransactionEnded(explain(
                f"{cls.__qualname__}.load_fixtures()/setUpTestData()", found,
                after="The library emptied the tables it created; the class's tests did not run.",
                committed=transaction.committed,
            ))

    @classmethod
    def _has_class_data_hooks(cls) -> bool:
        """Whether the class (or a base of its own) overrides load_fixtures or setUpTestData."""
        return any(
            getattr(getattr(cls, name), "__func__", None) is not getattr(_ProperTestMixin, name).__func__
            for name in ("load_fixtures", "setUpTestData")
        )

    @classmethod
    def _close_class_data(cls) -> None:
        """Undo the class data: attributes, then the class transaction."""
        data, cls._class_data = cls._class_data, None
        if data is None:
            return
        found = data.close()
        if found:
            raise TransactionEnded(explain(
                f"{cls.__qualname__} (tearDownClass or a class cleanup)", found,
                committed=data.transaction.committed,
            ))

    @classmethod
    def _reload_class_data(cls, found: dict[pw.Database, str]) -> dict[pw.Database, dict[str, int]]:
        """Start the class data again, after a test ended its transaction
        on the databases in `found`; returns the rows that had been
        committed there (see ClassTransaction.committed)."""
        data, cls._class_data = cls._class_data, None
        committed: dict[pw.Database, dict[str, int]] = {}
        if data is not None:
            data.close(found)  # resets the databases in `found`
            committed = data.transaction.committed
        cls._open_class_data()
        return committed

    @classmethod
    def _check_escaped_writes(cls) -> None:
        """Class end: report and clean rows committed by another connection."""
        watch, cls._write_watch = cls._write_watch, None
        if watch is None:
            return
        try:
            try:
                put_back_on_own_databases(cls._databases.values(), f"the class {cls.__qualname__}")
            finally:  # the counts and clean-up run on the test database either way
                found = watch.changes()
                for db in watch.changed_since_start():
                    empty_tables(db)
        finally:
            watch.close()
        if found:
            raise EscapedWritesError(explain_escaped(f"the class {cls.__qualname__}", found))

    # ---- per test ----

    def run(self, result: unittest.TestResult | None = None) -> unittest.TestResult | None:
        """Run the test in its own copy of the class's context (so what the
        class set-up put in ``current`` is there, and what the test puts
        there does not leak)."""
        with guard.running(f"the test {self.id()}"):
            outcome: unittest.TestResult | None = self._run_in_own_context(super().run, result)
        app_log: AppLog | None = getattr(type(self), "_app_log", None)
        if app_log is not None:
            # Reported by now; the errors it holds keep their tracebacks, so
            # the request's frames and the test's client, alive otherwise
            # until the class's next test (after its last test, for good).
            app_log.clear()
        return outcome

    def _run_in_own_context(self, run: Callable[[Any], Any], result: Any) -> Any:
        return class_context.for_test(type(self)).run(self._run_in_one_loop, run, result)

    @staticmethod
    def _run_in_one_loop(run: Callable[[Any], Any], result: Any) -> Any:
        # The synchronous client's requests share one event loop per test.
        with one_loop_per_test():
            return run(result)

    def _callSetUp(self) -> None:
        # unittest calls this inside its own error handling, so a failure
        # here is an error of this test, counted once; the undo is a
        # cleanup that runs after the test's own cleanups, however the test
        # ended, even if its setUp forgot super().
        cls = type(self)
        termination.resume()
        self._fail_if_body_cannot_run()
        after = _AfterTest(self.id(), ProcessState.for_test(), is_strict(cls))
        self.addCleanup(after.run)  # runs last
        after.leave_network = network.enter(
            self.id(), allow_all=cls._network_allowed or network.is_allowed_for(self)
        )
        if cls._storage_roots:
            after.stored_files = StoredFiles.for_test(cls._storage_roots)
            after.class_files = cls._class_files
        if cls._disk_services is not None:
            after.disk_services = cls._disk_services
            after.services_at_start = cls._disk_services.at_test_start()
        self._in_test_context(self._pre_setup)
        self.addCleanup(self._post_teardown)
        self._before_rollback()
        cast(Any, super())._callSetUp()  # unittest-private, not in typeshed

    def _before_rollback(self) -> None:
        """Hook: register cleanups that must run after the test's own
        cleanups and before its rollback."""

    def _sync_base_name(self) -> str | None:
        """The library class this test case derives from, for messages,
        when it runs no coroutines; None when it does."""
        return _sync_base(type(self))

    def _fail_if_body_cannot_run(self) -> None:
        """Fail a test method whose body would never run (see
        ``method_shapes``): in the set-up, so that ``expectedFailure``
        cannot take the failure for the one it expects."""
        # From the class: getting it from the test would run a property twice.
        method = getattr(type(self), self._testMethodName, None)
        if known_to_run(method):
            return
        problem = problem_before_call(self._testMethodName, method, type(self).__name__, self._sync_base_name())
        if problem:
            self.fail(problem)

    def _checking_what_it_returns(self, method: Callable[[], Any]) -> Callable[[], Any]:
        """`method`, failing the test if what it returns means its checks
        never ran (unittest only warns; see ``method_shapes``)."""
        def call_and_check() -> Any:
            returned = method()
            if returned is None:  # what almost every test returns
                return None
            problem = problem_with_returned(self._testMethodName, returned, type(self).__name__,
                                            self._sync_base_name())
            if problem:
                self.fail(problem)
            return returned

        return call_and_check

    def _in_test_context(self, func: Callable[[], Any]) -> Any:
        return func()

    def _time_limit(self, method: Callable[..., Any]) -> TimeLimit | None:
        """The time limit of this test's method, if it has one."""
        seconds = limit_for(type(self))
        if seconds is None:
            return None
        source = f"{type(self).__name__}.timeout" if type(self).timeout is not None else TIMEOUT_ENV
        return TimeLimit(self.id(), seconds, source, method)

    def _pre_setup(self) -> None:
        cls = type(self)
        if not cls._proper_ready:
            raise ConfigurationError(
                f"{cls.__qualname__}'s class set-up did not run: if it overrides "
                "setUpClass, that must call super().setUpClass() first."
            )
        with ExitStack() as undo:  # undoes what succeeded if a step fails
            state = AppState(self.app, config=cls._config_at_test_start())
            undo.callback(state.restore)
            undo.callback(self._end_test_databases)
            self._start_test_databases()
            # Channel code runs in a worker thread of this test, inside its
            # transaction; finished (or given up on) before the rollback.
            self._channel_workers = ChannelWorkers(self.app, self._databases.values(), self.id()).install()
            undo.callback(self._channel_workers.uninstall)
            self._undo = undo.pop_all()
        self._app_log.clear()
        current.app = self.app
        headers = dict(self.client_headers)
        self.client = self._client_class(
            self.app, databases=self._databases.values(), app_log=self._app_log, headers=headers
        )

    @property
    def async_client(self) -> AsyncProperClient:
        """An async client sharing ``self.client``'s headers, so its cookies,
        for coroutines: ``await self.async_client.get("/")``. Made on first
        use (most tests never use it); dropped when the test ends."""
        client: AsyncProperClient | None = vars(self).get("_async_client")
        if client is None:
            client = AsyncProperClient(self.app, databases=self._databases.values(), app_log=self._app_log)
            # Both clients share one set of headers, so one cookie jar.
            client.default_headers = self.client.default_headers
            vars(self)["_async_client"] = client
        return client

    @async_client.setter
    def async_client(self, client: AsyncProperClient) -> None:
        vars(self)["_async_client"] = client

    def _post_teardown(self) -> None:
        """Wait for channel code still running (reporting what outlives the
        wait), roll back the test's savepoint (reporting a test that ended
        the transaction), restore the app's state, then let go of the test's
        clients and workers (so a runner that keeps finished tests, as a
        forked worker's copy of its parent's list does, does not keep what
        they made); each step runs even if the one before it failed."""
        try:
            self._end_channel_workers()
        finally:
            try:
                self._undo.close()
            finally:
                for name in _PER_TEST_STATE:
                    vars(self).pop(name, None)

    def _end_channel_workers(self) -> None:
        """The test's channel code must be done before its rollback (see
        ``channels.workers``); raises LeftRunning for what is not."""
        self._channel_workers.finish()

    def _start_test_databases(self) -> None:
        self._transaction_ended = False
        self._savepoint = TestSavepoint(())  # nothing to roll back if the start fails
        cls = type(self)
        data = cls._class_data
        if data is None:  # the class data failed to reload: a savepoint of its own
            savepoint = TestSavepoint(self._databases.values())
            found = savepoint.begin()
        elif data.test_savepoint is None:
            # First test of the class: a full check (one query on MySQL),
            # for code after super().setUpClass() that ended the
            # transaction; then the savepoint every test is rolled back to,
            # after whatever the class set-up wrote.
            savepoint = TestSavepoint(self._databases.values(), keep=True)
            found = data.transaction.problems() or savepoint.begin()
            if not found:
                data.test_savepoint = savepoint
        else:
            savepoint = data.test_savepoint
            found = savepoint.check()
        if found:  # ended after the class set-up, before this test
            committed = cls._reload_class_data(found)
            raise TransactionEnded(explain(
                f"Code that ran before the test {self.id()} (setUpClass after "
                "super().setUpClass(), or a module-level set-up)", found, committed=committed,
            ))
        self._savepoint = savepoint

    def _end_test_databases(self) -> None:
        cls = type(self)
        found = self._savepoint.rollback()
        if found:
            committed = cls._reload_class_data(found)
            raise TransactionEnded(explain(f"The test {self.id()}", found, committed=committed))
        watch = cls._write_watch
        if watch is not None and check_setting(cls) == CHECK_AFTER_TEST:
            escaped = watch.changes()
            if escaped:
                raise EscapedWritesError(
                    explain_escaped(f"the test {self.id()}", escaped)
                    .replace("The library emptied", "When the class ends, the library empties")
                )

    @contextmanager
    def subTest(self, msg: Any = _subtest_msg_sentinel, **params: Any) -> Iterator[None]:
        """unittest's ``subTest``, with each block in its own savepoint:
        rows one sub-test writes are gone before the next one starts."""
        with super().subTest(msg, **params):
            if not self._uses_transactions or self._transaction_ended or not hasattr(self, "_savepoint"):
                yield
                return
            savepoint = TestSavepoint(self._databases.values())
            if savepoint.begin():
                self._transaction_ended = True
            try:
                yield
            finally:
                if savepoint.rollback():
                    # Reported once, when the test ends; no more savepoints.
                    self._transaction_ended = True

    # ---- authentication ----

    def sign_in(self, user_or_session: Any) -> Any:
        """Sign the test's clients in: pass a Session (used as is) or a user
        (a session is created for it with the Session model's
        ``create_for_user``). Returns the session."""
        return self.client.sign_in(user_or_session)

    def sign_out(self) -> None:
        """Stop sending the auth cookie (the DB session is left alone)."""
        self.client.sign_out()


class RecordedTestMixin(TestCaseMixin):
    """Records what each test does. First in the test cases' method
    resolution order: its ``run()`` starts a
    :class:`~proper_unittest.recording.recorder.TestRecording` before the
    rest of the per-test set-up and stops it after the teardown, whatever
    happened; when the flight recorder is on, the result is wrapped so that
    failures get the appendix (see ``recording.flight_recorder``)."""

    #: Add the flight recorder's appendix to failures and errors (and keep
    #: the SQL it lists). ``PROPER_UNITTEST_FLIGHT_RECORDER=0`` turns it off
    #: for a whole run.
    flight_recorder = True

    _recording: Any = None
    #: Where the running test's time goes (--durations), read by the runner.
    _time_spent: TimeSpent | None = None

    if TYPE_CHECKING:  # set by the test case's class set-up
        app: Any
        _databases: ClassVar[dict[int, Any]]

    def run(self, result: unittest.TestResult | None = None) -> unittest.TestResult | None:
        """Run the test with its recording on (see the module docstring)."""
        if not getattr(type(self), "_proper_ready", False):
            return super().run(result)  # the base class reports the misconfiguration
        if result is None:
            result = self.defaultTestResult()
            start, stop = getattr(result, "startTestRun", None), getattr(result, "stopTestRun", None)
            if start is not None:
                start()
            try:
                return self.run(result)
            finally:
                if stop is not None:
                    stop()
        appendix = flight_recorder_enabled(self)
        if time_spent_enabled():
            self._time_spent = TimeSpent().install(self.app, self._databases.values())
        recording = TestRecording(self.app, self._databases.values(), record_sql=appendix)
        self._recording = recording.start(getattr(type(self), "_recording_hub", None))
        try:
            super().run(cast(unittest.TestResult, ResultWithAppendix(result, self, recording)) if appendix else result)
        finally:
            recording.stop()
            if self._time_spent is not None:
                self._time_spent.uninstall()
                self._time_spent = None
            # The responses and SQL it kept are done with; a runner that
            # keeps the test object would otherwise keep them too.
            self._recording = None
        return result


# ---- the test case classes ----


class _Mixins(
    RecordedTestMixin,    # this module: the per-test recording and the flight recorder
    ChangeAssertions,     # assertions.changes: assertChanges, assertNoChange
    TaskAssertions,       # assertions.tasks: the tasks a test enqueued
    BroadcastAssertions,  # assertions.broadcasts: the cable's broadcasts
    TemplateAssertions,   # assertions.templates: the jx components rendered
    TimeTravel,           # isolation.time_travel: travel_to
    _ProperTestMixin,     # this module: class set-up, per-test isolation, the clients
    ShowsLogOnFailure,    # recording.app_log: the app's log in failure reports
    ProperAssertions,     # assertions.responses: responses, emails, queries
    HTMLAssertions,       # assertions.html: select, assertSelect, assertFormError
    TurboAssertions,      # assertions.turbo: Turbo Streams and Frames
    StorageAssertions,    # assertions.storage: stored files
):
    """Every mixin of the test case classes, in method resolution order
    (AsyncChannelTestCase adds ChannelAssertions after them)."""


class ProperTestCase(_Mixins, unittest.TestCase):
    """A unittest TestCase for a Proper app.

    Every test runs inside a rolled-back transaction on each of the app's
    databases, with a fresh ``self.client`` (cookies included), an empty
    outbox, and any config, cache, queue-mode or ``current`` change undone
    afterwards. Channel code runs in a worker thread, as in production,
    inside the same transaction.
    """

    #: The test's client: ``self.client.get("/")`` returns the response.
    client: ProperClient

    def _callTestMethod(self, method: Callable[[], Any]) -> None:
        call_and_check = self._checking_what_it_returns(method)
        limit = self._time_limit(method)
        if limit is None:
            cast(Any, super())._callTestMethod(call_and_check)  # unittest-private, not in typeshed
            return
        with limit.armed():
            cast(Any, super())._callTestMethod(call_and_check)


class ProperTransactionTestCase(ProperTestCase):
    """A ProperTestCase without the transaction: for code that must commit.

    Commits happen for real (Django's ``TransactionTestCase``, Rails'
    ``use_transactional_tests = false``). After each test every table the
    library created is emptied. ``load_fixtures()`` and ``setUpTestData()``
    run before each test (their rows would not survive the emptying), and
    ``subTest`` blocks share the test's rows. Slower than ProperTestCase:
    use it only where committing is the point.
    """

    _uses_transactions = False

    def _start_test_databases(self) -> None:
        self._transaction_ended = False
        self._test_data: _ClassData[None] | None = _ClassData(type(self), None)
        self._test_data.load()

    def _end_test_databases(self) -> None:
        data, self._test_data = self._test_data, None
        try:
            assert data is not None  # set by _start_test_databases
            data.close()
        finally:
            try:
                put_back_on_own_databases(self._databases.values(), f"the test {self.id()}")
            finally:
                for db in self._databases.values():
                    reset_database(db)


class AsyncChannelTestCase(_Mixins, ChannelAssertions, unittest.IsolatedAsyncioTestCase):
    """ProperTestCase's isolation for ``async def`` tests, with WebSockets.

    ``self.client`` is async (``await self.client.get("/")``) and runs in
    the test's loop, inside its transaction; ``await self.connect()`` opens
    a cable connection that carries the signed-in cookie and is closed at
    teardown.
    """

    #: The test's async client: ``await self.client.get("/")``.
    client: AsyncProperClient
    _client_class = AsyncProperClient

    def _run_in_own_context(self, run: Callable[[Any], Any], result: Any) -> Any:
        # unittest's asyncio runner enters this context for setUp, the test
        # and the cleanups.
        self._asyncioTestContext = class_context.for_test(type(self))
        return run(result)

    def _in_test_context(self, func: Callable[[], Any]) -> Any:
        return self._asyncioTestContext.run(func)

    def _sync_base_name(self) -> None:
        return None  # its test methods may be coroutines

    #: Seconds a callback may hold the loop before asyncio's debug mode
    #: complains; inline requests do database work on the loop on purpose.
    slow_callback_duration = 1.0

    def _callSetUp(self) -> None:
        # unittest-private names, not in typeshed.
        loop = cast(Any, self)._asyncioRunner.get_loop()
        loop.slow_callback_duration = self.slow_callback_duration
        self._task_errors = TaskErrors().install(loop)  # the loop is this test's alone
        super()._callSetUp()

    def _callTestMethod(self, method: Callable[[], Any]) -> None:
        limit = self._time_limit(method)
        if not inspect.iscoroutinefunction(method):
            cast(Any, super())._callTestMethod(self._checking_what_it_returns(method))  # unittest-private
        elif limit is None:
            cast(Any, super())._callTestMethod(method)
        else:
            with limit.armed():
                cast(Any, super())._callTestMethod(limit.wrap_coroutine(method))
        lost = self._lost_async_work(cast(Any, self)._asyncioRunner.get_loop())
        if lost is not None:
            raise lost

    def _lost_async_work(self, loop: asyncio.AbstractEventLoop) -> BaseException | None:
        """A failure for the library coroutines the test never awaited, else
        one (or an error) for its tasks whose exception nothing retrieved;
        None if there are none (see ``isolation.lost_async``). What it
        reports is closed or marked retrieved, so is not reported again."""
        unawaited = take_unawaited(self, loop)
        if unawaited:  # the tasks, if any, are reported at the test's end
            return self.failureException(explain_unawaited(self.id(), unawaited))
        task_errors: TaskErrors | None = vars(self).get("_task_errors")
        failed = task_errors.take_unretrieved() if task_errors is not None else []
        if failed:
            return unretrieved_error(self.id(), failed, self.failureException)
        return None

    def _before_rollback(self) -> None:
        self.addAsyncCleanup(self._close_what_the_test_opened)

    async def _close_what_the_test_opened(self) -> None:
        """Close the WebSocket sessions the test left open and cancel the
        tasks it left running, inside its transaction (their last writes,
        e.g. ``unsubscribed()``, are rolled back with it). What fails to
        close or refuses to end is an error of this test; a library
        coroutine it never awaited, a task that raised unnoticed, or a task
        of its own code (or a library check) still running also fails it."""
        problems: list[str] = []
        async_client: AsyncProperClient | None = vars(self).get("_async_client")
        for session in [*self.client.sessions, *(async_client.sessions if async_client else [])]:
            if session.is_open:
                problem = await self._close_left_open(session)
                if problem:
                    problems.append(problem)
        this = asyncio.current_task()
        leftovers = [task for task in asyncio.all_tasks() if task is not this and not task.done()]
        test_module = sys.modules.get(type(self).__module__)
        unfinished = unfinished_checks(leftovers, getattr(test_module, "__file__", None))
        for task in leftovers:
            task.cancel()
        if leftovers:
            _, pending = await asyncio.wait(leftovers, timeout=1.0)
            problems += [f"the task {task.get_name()} ({task.get_coro()!r}) it left running did not "
                         "end within 1s of being cancelled" for task in pending]
        # Also what was lost after the test method (in asyncTearDown, a cleanup).
        lost = self._lost_async_work(asyncio.get_running_loop())
        if problems:
            raise self._left_running(problems + unfinished)
        if unfinished:
            raise self.failureException(explain_unfinished(self.id(), unfinished))
        if lost is not None:
            raise lost

    async def _close_left_open(self, session: ChannelSession) -> str | None:
        """Close `session`; what went wrong, or None. A connection held up
        by channel code still running in the worker is not a problem here:
        the end of the test waits for that code, and names it if it
        outlives the wait."""
        try:
            await session.close()
        except TimeoutError as error:
            if self._channel_workers.busy:
                return None
            return f"closing the WebSocket session to {session.path!r} it left open failed: {error}"
        except Exception as error:  # the app's unsubscribed() raised
            return (f"closing the WebSocket session to {session.path!r} it left open "
                    f"failed: {error!r}{session._crash()}")
        return None

    def _left_running(self, problems: list[str]) -> LeftRunning:
        return LeftRunning(
            f"The test {self.id()} left work running that the library could not end before "
            "rolling it back:\n" + "\n".join(f"- {problem}" for problem in problems)
            + "\nClose sessions and await (or cancel) tasks inside the test."
        )

    async def _close_at_end(self, session: ChannelSession) -> None:
        problem = await self._close_left_open(session) if session.is_open else None
        if problem:
            raise self._left_running([problem])

    @must_be_awaited
    async def connect(self, path: str = "", timeout: float = 1.0) -> ChannelSession:
        """Open a WebSocket connection to the app's cable (or `path`),
        carrying the client's cookies. Closed automatically at teardown."""
        session = self.client.websocket(path)
        self.addAsyncCleanup(self._close_at_end, session)
        await session.connect(timeout=timeout)
        return session

    @must_be_awaited
    async def assertReceives(self, session: ChannelSession, data: Any, timeout: float = 1.0,
                             msg: Any = None, *, channel: str | None = None,
                             params: dict[str, Any] | None = None) -> Any:
        """Assert the next frame on `session` is a message whose data equals
        `data` (as JSON compares: ``True`` is not ``1``); with `channel` and/or `params`, one from that subscription
        (a connection subscribed twice gets each one's messages). Returns
        the data."""
        frame = await session._receive_message_frame(timeout)
        received = frame.get("data")
        came_on = (frame.get("channel"), frame.get("params") or {})
        if json_equal(data, received) and channel in (None, came_on[0]) and params in (None, came_on[1]):
            return received
        if channel is None and params is None:
            problem = f"Expected message data {data!r}, got {received!r}."
        else:
            problem = (f"Expected message data {data!r} on {_subscription(channel, params)}, "
                       f"got {received!r} on {_subscription(*came_on)}.")
        self.fail(self._formatMessage(msg, f"{problem}\n{session._history()}"))

    @must_be_awaited
    async def assertNothingReceived(self, session: ChannelSession, timeout: float = 0.1,
                                    msg: Any = None) -> None:
        """Assert no frame arrives on `session` within `timeout` seconds,
        watched once the channel code the test started (frames sent with
        ``client_send``, actions of any connection) has finished: it is
        waited for up to WORKER_GRACE seconds, and still running then fails."""
        await self._until_channel_code_done(session, msg)
        try:
            frame = await session.receive(timeout=timeout)
        except ReceiveTimeout:
            return
        self.fail(self._formatMessage(msg, f"Expected no frame, got {frame!r}.\n{session._history()}"))

    async def _until_channel_code_done(self, session: ChannelSession, msg: Any) -> None:
        """Wait until `session`'s app has handled what the client sent and the
        test's worker runs no channel code; fail if that takes more than
        WORKER_GRACE seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WORKER_GRACE
        while session.is_handling or self._channel_workers.busy:
            if loop.time() >= deadline:
                where = self._channel_workers.where_running()
                self.fail(self._formatMessage(
                    msg, f"assertNothingReceived waited {WORKER_GRACE:g}s for the channel code the test "
                    "started to finish, so that a frame it sends is not missed; it was still running."
                    + (f"\n{where}" if where else "") + f"\n{session._history()}"
                ))
            await asyncio.sleep(0.01)


class _AfterTest:
    """The test's last clean-up, one for three (a clean-up costs unittest
    more than each of these does): put storage back (the Disk services'
    roots, the class's files; the files it stored removed), end its network
    checks, then put back and report what it changed in the process. Each
    step runs even if the one before it failed; a step whose set-up failed
    is not there."""

    def __init__(self, test_id: str, state: ProcessState, strict: bool) -> None:
        self.test_id = test_id
        self.state = state
        self.strict = strict
        self.stored_files: StoredFiles | None = None
        self.class_files: ClassFiles | None = None
        self.disk_services: DiskServices | None = None
        self.services_at_start: list[dict[str, Any]] = []
        self.leave_network: Callable[[], None] | None = None

    def run(self) -> None:
        storage_changes: list[str] = []
        try:
            storage_changes = self._put_back_storage()
        finally:
            try:
                if self.leave_network is not None:
                    self.leave_network()
            finally:
                report(self.test_id, self.state, self.strict, test=True, also=storage_changes)

    def _put_back_storage(self) -> list[str]:
        """Put the services' roots back first (the files are theirs), then
        the class's files, then remove the files the test stored; return
        what the test did to the services, for the report."""
        changes: list[str] = []
        try:
            if self.disk_services is not None:
                changes = self.disk_services.put_back(self.services_at_start)
        finally:
            try:
                if self.class_files is not None:
                    self.class_files.put_back()
            finally:
                if self.stored_files is not None:
                    self.stored_files.remove_new(test=True)
        return changes


def _subscription(channel: str | None, params: dict[str, Any] | None) -> str:
    """A subscription for messages: "NotesChannel {'room': 'a'}"; either part may be left out."""
    shown = [part for part in (channel, None if params is None else repr(params)) if part is not None]
    return " ".join(shown) if channel is not None else f"any channel with params {shown[0]}"


def _sync_base(cls: type) -> str:
    """The library class `cls` derives from, for messages."""
    return "ProperTransactionTestCase" if issubclass(cls, ProperTransactionTestCase) else "ProperTestCase"


_MISSING = object()
# What _pre_setup (and the async client, when used) made for one test.
_PER_TEST_STATE = ("client", "_async_client", "_channel_workers", "_undo", "_task_errors")

#: The transaction a class's data lives in: none in ProperTransactionTestCase.
_Transaction = TypeVar("_Transaction", ClassTransaction, None)


class _ClassData(Generic[_Transaction]):
    """One load of a class's data: the class transaction (None in
    ProperTransactionTestCase) and the class attributes ``load_fixtures()``
    and ``setUpTestData()`` set, each read by tests as a per-test copy and
    put back as it was by :meth:`close`."""

    def __init__(self, cls: type[_ProperTestMixin], transaction: _Transaction) -> None:
        self.cls = cls
        self.transaction: _Transaction = transaction
        self.replaced: dict[str, object] = {}
        #: The savepoint every test of the class is rolled back to (see
        #: TestSavepoint), established by the first test after checking the
        #: class transaction is still open.
        self.test_savepoint: TestSavepoint | None = None

    def load(self) -> None:
        """Run the hooks; wrap every attribute they set or replaced."""
        cls = self.cls
        before = dict(vars(cls))
        try:
            cls.load_fixtures()
            cls.setUpTestData()
        finally:
            for name, value in list(vars(cls).items()):
                if before.get(name, _MISSING) is value:
                    continue
                self.replaced[name] = before.get(name, _MISSING)
                if _is_data(value):
                    setattr(cls, name, _PerTestCopy(name, value))

    def close(self, known: dict[pw.Database, str] | None = None) -> dict[pw.Database, str]:
        """Put the attributes back; roll back the class transaction and
        return the databases where it had ended (see ClassTransaction)."""
        for name, original in self.replaced.items():
            if original is _MISSING:
                if name in vars(self.cls):
                    delattr(self.cls, name)
            else:
                setattr(self.cls, name, original)
        self.replaced.clear()
        return self.transaction.rollback(known) if self.transaction is not None else {}


def _is_data(value: object) -> bool:
    return not callable(value) and not isinstance(value, (classmethod, staticmethod, property))


class _PerTestCopy:
    """Class attribute from setUpTestData: each test instance reads its own
    deep copy, so one test changing it cannot affect the next."""

    def __init__(self, name: str, value: object) -> None:
        self.name = name
        self.value = value

    def __get__(self, instance: object | None, owner: type) -> object:
        if instance is None:
            return self.value
        try:
            copied = copy.deepcopy(self.value)
        except Exception:  # not copyable: share it, as plain unittest would
            copied = self.value
        vars(instance)[self.name] = copied
        return copied
