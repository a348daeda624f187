"""The test case classes: ProperTestCase and AsyncChannelTestCase."""
import contextvars
import copy
import sys
import unittest
from contextlib import ExitStack

from proper import current

from ._loop import one_loop_per_test
from ._provision import claim_app_databases
from .applog import AppLog
from .assertions import ProperAssertions
from .client import AsyncProperClient, ProperClient, close_uploaded_files
from .databases import Transaction
from .discovery import app_for
from .errors import ConfigurationError
from .isolation import AppState

# unittest and pytest leave this module's frames out of tracebacks, so that
# a set-up error (re-raised here without its library frames) reads as the
# message about the user's set-up it is.
__unittest = True
__tracebackhide__ = True


class _ProperTestMixin(ProperAssertions):
    """Class-level set-up and per-test isolation shared by both test cases."""

    #: The app under test: a ``proper.App`` or ``"package.module:attr"``.
    #: When unset, it comes from setup.cfg / pyproject.toml (see README).
    app = None
    #: Headers every request of ``self.client`` sends (e.g. ``{"accept": "application/json"}``).
    client_headers: dict = {}

    _proper_ready = False
    _client_class = ProperClient

    # ---- class level ----

    @classmethod
    def setUpClass(cls) -> None:
        """Find the app, check it is safe to test, prepare its databases,
        then open the class transaction and load class data."""
        super().setUpClass()
        try:
            app = app_for(cls)
            databases = {id(db): db for db in claim_app_databases(app, cls.__qualname__)}
        except ConfigurationError as error:
            raise error.with_traceback(None)  # the message says it all

        cls.app = app
        cls._databases = databases
        cls._app_log = AppLog()
        cls._app_log.install(app)
        cls.addClassCleanup(cls._app_log.uninstall)
        if close_uploaded_files not in app._on_teardown:
            app.on_teardown(close_uploaded_files)

        transaction = Transaction(databases.values()).begin()
        cls.addClassCleanup(transaction.rollback)
        attributes_before = set(vars(cls))
        cls.load_fixtures()
        cls.setUpTestData()
        cls._wrap_test_data(set(vars(cls)) - attributes_before)
        cls._proper_ready = True
        cls.addClassCleanup(setattr, cls, "_proper_ready", False)

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
    def _wrap_test_data(cls, names) -> None:
        for name in names:
            value = vars(cls)[name]
            if not callable(value) and not isinstance(value, (classmethod, staticmethod, property)):
                setattr(cls, name, _PerTestCopy(value))
                cls.addClassCleanup(delattr, cls, name)

    # ---- per test ----

    def run(self, result=None):
        """Run the test in its own copy of the context (so ``current.*``
        values it sets do not leak), between the isolation set-up and
        teardown; these run even if the test's own setUp forgot super()."""
        return contextvars.copy_context().run(self._run_in_one_loop, result)

    def _run_in_one_loop(self, result):
        # The synchronous client's requests share one event loop per test.
        with one_loop_per_test():
            return self._run_isolated(result)

    def _run_isolated(self, result):
        if _is_skipped(self):
            return super().run(result)
        result = result if result is not None else self.defaultTestResult()
        try:
            self._pre_setup()
        except Exception:
            return _report_error(self, result)
        try:
            return super().run(result)
        finally:
            try:
                self._post_teardown()
            except Exception:
                _report_error(self, result)

    def _pre_setup(self) -> None:
        cls = type(self)
        if not cls._proper_ready:
            raise ConfigurationError(
                f"{cls.__qualname__}'s class set-up did not run: if it overrides "
                "setUpClass, that must call super().setUpClass() first."
            )
        with ExitStack() as undo:  # undoes what succeeded if a step fails
            state = AppState(self.app, self._databases.values())
            undo.callback(state.restore)
            transaction = Transaction(self._databases.values()).begin()
            undo.callback(transaction.rollback)
            self._undo = undo.pop_all()
        self._app_log.clear()
        current.app = self.app
        headers = dict(self.client_headers)
        self.client = self._client_class(
            self.app, databases=self._databases.values(), app_log=self._app_log, headers=headers
        )
        self.async_client = AsyncProperClient(
            self.app, databases=self._databases.values(), app_log=self._app_log
        )
        # Both clients share one set of headers, so one cookie jar.
        self.async_client.default_headers = self.client.default_headers

    def _post_teardown(self) -> None:
        """Roll back the test's transaction, then restore the app's state;
        each step runs even if the one before it failed."""
        self._undo.close()

    # ---- authentication ----

    def sign_in(self, user_or_session):
        """Sign the test's clients in: pass a Session (used as is) or a user
        (a session is created for it with the Session model's
        ``create_for_user``). Returns the session."""
        return self.client.sign_in(user_or_session)

    def sign_out(self) -> None:
        """Stop sending the auth cookie (the DB session is left alone)."""
        self.client.sign_out()


class ProperTestCase(_ProperTestMixin, unittest.TestCase):
    """A unittest TestCase for a Proper app.

    Every test runs inside a rolled-back transaction on each of the app's
    databases, with a fresh ``self.client`` (cookies included), an empty
    outbox, and any config, cache, queue-mode or ``current`` change undone
    afterwards. Channel code runs inline, inside the same transaction.
    """


class AsyncChannelTestCase(_ProperTestMixin, unittest.IsolatedAsyncioTestCase):
    """ProperTestCase's isolation for ``async def`` tests, with WebSockets.

    ``self.client`` is async (``await self.client.get("/")``) and runs in
    the test's loop, inside its transaction; ``await self.connect()`` opens
    a cable connection that carries the signed-in cookie and is closed at
    teardown.
    """

    _client_class = AsyncProperClient

    #: Seconds a callback may hold the loop before asyncio's debug mode
    #: complains; inline requests do database work on the loop on purpose.
    slow_callback_duration = 1.0

    def _callSetUp(self):
        self._asyncioRunner.get_loop().slow_callback_duration = self.slow_callback_duration
        super()._callSetUp()

    async def connect(self, path: str = "", timeout: float = 1.0):
        """Open a WebSocket connection to the app's cable (or `path`),
        carrying the client's cookies. Closed automatically at teardown."""
        session = self.client.websocket(path)
        self.addAsyncCleanup(session.close)
        await session.connect(timeout=timeout)
        return session

    async def assertReceives(self, session, data, timeout: float = 1.0, msg=None):
        """Assert the next frame on `session` is a message whose data equals `data`."""
        received = await session.receive_message(timeout=timeout)
        if received != data:
            self.fail(self._formatMessage(
                msg, f"Expected message data {data!r}, got {received!r}.\n{session._history()}"
            ))
        return received

    async def assertNothingReceived(self, session, timeout: float = 0.1, msg=None) -> None:
        """Assert no frame arrives on `session` within `timeout` seconds."""
        try:
            frame = await session.receive(timeout=timeout)
        except AssertionError:
            return
        self.fail(self._formatMessage(msg, f"Expected no frame, got {frame!r}.\n{session._history()}"))


class _PerTestCopy:
    """Class attribute from setUpTestData: each test instance reads its own
    deep copy, so one test changing it cannot affect the next."""

    def __init__(self, value) -> None:
        self.value = value

    def __set_name__(self, owner, name) -> None:
        self.name = name

    def __get__(self, instance, owner):
        if instance is None:
            return self.value
        try:
            copied = copy.deepcopy(self.value)
        except Exception:  # not copyable: share it, as plain unittest would
            copied = self.value
        vars(instance)[self._name_in(owner)] = copied
        return copied

    def _name_in(self, owner) -> str:
        for klass in owner.__mro__:
            for name, value in vars(klass).items():
                if value is self:
                    return name
        raise AttributeError("setUpTestData attribute not found")  # pragma: no cover


def _is_skipped(test) -> bool:
    method = getattr(test, test._testMethodName, None)
    return bool(getattr(type(test), "__unittest_skip__", False) or getattr(method, "__unittest_skip__", False))


def _report_error(test, result):
    result.startTest(test)
    result.addError(test, sys.exc_info())
    result.stopTest(test)
    return result
