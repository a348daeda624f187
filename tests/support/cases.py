"""Base test cases on the journal fixture app, and apps made inside a test."""
from proper import App

from proper_unittest import ProperTestCase


APP = "tests.support.apps.journal.main:app"


class JournalCase(ProperTestCase):
    """Base of the test classes on the journal fixture app, with helpers
    that return the message of a failing assertion."""

    app = APP

    def failure(self, assertion, *args, **kwargs) -> str:
        """The message of the AssertionError `assertion` raises."""
        with self.assertRaises(AssertionError) as raised:
            assertion(*args, **kwargs)
        return str(raised.exception)

    def block_failure(self, manager, block) -> str:
        """The message of the AssertionError the context `manager` raises around `block`."""
        with self.assertRaises(AssertionError) as raised:
            with manager:
                block()
        return str(raised.exception)


MEMORY_DB = {"type": "peewee.SqliteDatabase", "database": ":memory:"}


def make_app(**config) -> App:
    """A Proper app on an in-memory SQLite database, with `config` added."""
    return App(__name__, config={"SECRET_KEYS": ["s" * 64], "DATABASES": {"main": MEMORY_DB}, **config})


def after_each_request(test, hook) -> None:
    """Call `hook` at the end of each request of `test`'s app, until `test` ends."""
    app = test.app
    saved = app._on_teardown
    app.on_teardown(hook)
    test.addCleanup(setattr, app, "_on_teardown", saved)


class WithClassData:
    """Mixin of inner test classes on the notes app: a fixture note and a user
    ``alice`` made once for the class."""

    @classmethod
    def load_fixtures(cls):
        from tests.support.apps.notes.main import Note
        Note.create(title="fixture")

    @classmethod
    def setUpTestData(cls):
        from tests.support.apps.notes.main import User
        cls.alice = User.create(name="alice")


class WithAnn:
    """Mixin of test classes on the notes app: a user ``ann`` made once for the class."""

    @classmethod
    def setUpTestData(cls):
        from tests.support.apps.notes.main import User
        cls.ann = User.create(name="ann")
