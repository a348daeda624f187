"""Exceptions raised by proper_unittest when a test run cannot start safely."""


class ConfigurationError(Exception):
    """A test case cannot find or use its Proper app.

    The message says what was looked for, where, and how to fix it.
    """


class UnsafeDatabaseError(ConfigurationError):
    """The app is not configured for testing, so no database was touched.

    Raised before any connection or DDL when ``APP_ENV`` is not ``"test"``
    or when a configured database does not look like a test database.
    """
