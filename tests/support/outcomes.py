"""Reading the outcome of an inner run, and what the database holds after it."""
from tests.support.apps.notes.main import db
from tests.support.apps.testdb import backend
from tests.support.servers import server_database


def committed_rows(model) -> int:
    """Rows of `model`'s table as another connection sees them."""
    if backend() == "sqlite":  # :memory: has no other connection
        return model.select().count()
    other = server_database(db.database)
    other.connect()
    try:
        table = model._meta.table_name.join(other.quote)
        return other.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        other.close()


def errors_by_test(result) -> dict[str, list[str]]:
    """{test method or fixture description: [error texts]} of an inner run."""
    found = {}
    for test, text in result.errors + result.failures:
        found.setdefault(getattr(test, "_testMethodName", str(test)), []).append(text)
    return found


def failure_text(result) -> str:
    """Every failure and error message of an inner run, joined."""
    return "\n".join(text for _, text in result.failures + result.errors)


def failures_of(test, run, count: int) -> list[str]:
    """The failure messages of an inner run (``run_inner``'s result and
    output), after asserting there are `count` of them."""
    result, output = run
    test.assertEqual(len(result.failures), count, output)
    return [text for _, text in result.failures]


async def failure_of(awaitable) -> str:
    """The message of the AssertionError `awaitable` raises (None if none)."""
    try:
        await awaitable
    except AssertionError as error:
        return str(error)
    return None


def the_error(test, run) -> str:
    """The output of an inner run (``run_inner``'s result and output) that
    must have ended in exactly one error."""
    result, output = run
    test.assertEqual(len(result.errors), 1, output)
    return output
