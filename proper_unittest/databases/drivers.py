"""A database driver that is not installed, said as what to install.

peewee imports each driver when it is imported and, when one is missing,
raises ``ImproperlyConfigured("... not installed!")`` only once a database
connects. The connection guard (see guard.py) turns that into
:class:`MissingDriverError`, naming the driver and the command that
installs it into the Python that runs the tests, before anything was
touched.
"""
import sys

import peewee as pw

from proper_unittest.errors import MissingDriverError

# peewee's own messages for a missing driver all say this.
_NOT_INSTALLED = "not installed"

# By Database class name (the playhouse classes, without importing them):
# the driver, how to install it, and the library's extra that does.
_BY_CLASS_NAME = {
    "Psycopg3Database": ("psycopg 3", 'python -m pip install "psycopg[binary]"', "postgres3"),
    "MySQLConnectorDatabase": ("MySQL Connector/Python", "python -m pip install mysql-connector-python", ""),
    "MariaDBConnectorDatabase": ("MariaDB Connector/Python", "python -m pip install mariadb", ""),
}


def is_missing_driver(error: pw.ImproperlyConfigured) -> bool:
    """True when `error`, raised by a Database's connect, says its driver
    is not installed."""
    return _NOT_INSTALLED in str(error)


def missing_driver_error(db: pw.Database, error: pw.ImproperlyConfigured) -> MissingDriverError:
    """The error to raise instead of `error` for `db`: which driver, the
    command that installs it, and that nothing was touched."""
    if isinstance(db, pw.SqliteDatabase):
        return MissingDriverError(
            f"Cannot connect {type(db).__name__}: the Python that runs the tests ({sys.executable}) "
            f"was built without its sqlite3 module (peewee says: {error}). Use a Python built with "
            "SQLite. Nothing was touched."
        )
    driver, install, extra = _driver_of(db)
    how = f"`{install}`" if install else "its driver's package"
    if extra:
        how += f", as the library's [{extra}] extra does"
    return MissingDriverError(
        f"Cannot connect {type(db).__name__}: the {driver} driver it needs is not installed in "
        f"the Python that runs the tests ({sys.executable}; peewee says: {error}). Install it "
        f"there ({how}) and add it to the project's test dependencies. Nothing was touched."
    )


def _driver_of(db: pw.Database) -> tuple[str, str, str]:
    """(the driver, the command that installs it, the library's extra that
    installs it); "" for what is not known."""
    for klass in type(db).__mro__:
        if klass.__name__ in _BY_CLASS_NAME:
            return _BY_CLASS_NAME[klass.__name__]
    if isinstance(db, pw.PostgresqlDatabase):
        return "PostgreSQL (psycopg2)", "python -m pip install psycopg2-binary", "postgres"
    if isinstance(db, pw.MySQLDatabase):
        return "MySQL/MariaDB (PyMySQL)", "python -m pip install pymysql", "mysql"
    return "database", "", ""
