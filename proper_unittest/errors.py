"""Exceptions raised by proper_unittest when a test run cannot start safely."""

import peewee as pw


class ConfigurationError(Exception):
    """A test case cannot find or use its Proper app.

    The message says what was looked for, where, and how to fix it.
    """


class UnsafeDatabaseError(ConfigurationError):
    """The app is not configured for testing, so no database was touched.

    Raised before any connection or DDL when ``APP_ENV`` is not ``"test"``
    or when a configured database does not look like a test database.
    """


class UnsafeServiceError(ConfigurationError):
    """The app's test configuration uses a service that tests cannot undo
    or keep private (a server-backed cache, queue or cable, a storage
    service that is not on local disk), and the tests did not opt in.
    Nothing was touched.
    """


class MissingDriverError(ConfigurationError, pw.ImproperlyConfigured):
    """A database the tests would connect to needs a driver (psycopg2,
    PyMySQL, ...) that is not installed in the Python running the tests.
    Raised when it would connect, before anything was touched; the message
    names the driver and the command that installs it. Also a peewee
    ``ImproperlyConfigured``, the error peewee raises for it.
    """
