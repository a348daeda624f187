"""What the connection guard's per-statement checks cost, in process.

Armed (as inside a test class), on SQLite in memory, nanoseconds per call,
with and without each check, rounds interleaved, best of --repeats:

- ``db.cursor()``, ``db.execute_sql("SELECT 1")`` and a model's
  ``get_or_none``: the check of the statement's connection (guard.py wraps
  ``peewee.Database.cursor``: one identity test once the connection is
  checked);
- ``Note._meta.table``: the getter that makes a schema'd model's table a
  checked one, against peewee's own (a model without a schema pays nothing
  more when turned into SQL);
- ``get_or_none`` prepared anew each time (``cached_statements=0``): the
  SQLite authorizer that refuses ATTACH of non-test files, which runs only
  when SQLite prepares a statement.

    python bench/guard_cost.py [--calls 200000] [--repeats 7]
"""
import argparse
import time

import peewee as pw

from proper_unittest.databases import guard


def timed(func, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        func()
    return (time.perf_counter() - start) / calls * 1e9


def compare(func, calls: int, repeats: int, check_on, check_off) -> tuple[float, float]:
    """(best without the check, best with it), rounds interleaved."""
    with_check, without = [], []
    for _ in range(repeats):
        with_check.append(timed(func, calls))
        check_off()
        try:
            without.append(timed(func, calls))
        finally:
            check_on()
    return min(without), min(with_check)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    guard.install()
    db = pw.SqliteDatabase(":memory:")
    unprepared = pw.SqliteDatabase(":memory:", cached_statements=0)

    class Note(pw.Model):
        title = pw.CharField()

        class Meta:
            database = db

    rows = []
    wrapped = pw.Database.__dict__["cursor"]
    table_property = pw.Metadata.__dict__["table"]
    plain_table = property(table_property.fget.__wrapped__)

    def set_cursor(value):
        return lambda: setattr(pw.Database, "cursor", value)

    def set_table(value):
        return lambda: setattr(pw.Metadata, "table", value)

    with guard.guarding("bench/guard_cost.py"):
        db.connect()
        db.create_tables([Note])
        Note.create(title="x")
        cursor_on, cursor_off = set_cursor(wrapped), set_cursor(wrapped.__wrapped__)
        for name, func, calls in (
            ("db.cursor()", lambda: db.cursor(), args.calls),
            ("db.execute_sql('SELECT 1')", lambda: db.execute_sql("SELECT 1"), args.calls // 4),
            ("Note.get_or_none(Note.id == 1)", lambda: Note.get_or_none(Note.id == 1), args.calls // 20),
        ):
            rows.append((name, *compare(func, calls, args.repeats, cursor_on, cursor_off)))
        rows.append(("Note._meta.table", *compare(lambda: Note._meta.table, args.calls, args.repeats,
                                                  set_table(table_property), set_table(plain_table))))
        conn = unprepared.connection()
        authorizer = guard._attach_authorizer(False)
        with Note.bind_ctx(unprepared):
            unprepared.create_tables([Note])
            Note.create(title="x")
            rows.append(("get_or_none, prepared anew (authorizer)", *compare(
                lambda: Note.get_or_none(Note.id == 1), args.calls // 20, args.repeats,
                lambda: conn.set_authorizer(authorizer), lambda: conn.set_authorizer(None))))
    print(f"{'ns per call, best of ' + str(args.repeats):42} {'without':>9} {'with':>9} {'added':>7}")
    for name, without, with_check in rows:
        print(f"{name:42} {without:9.0f} {with_check:9.0f} {with_check - without:7.0f}")


if __name__ == "__main__":
    main()
