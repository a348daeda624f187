"""The app's test databases, private to the library (only what
``proper_unittest`` exports is public).

- ``safety``: which databases a run may touch (the refusals and their checks).
- ``names``, ``sqlite_names``: the test database names, per backend.
- ``provision``: creating, claiming and dropping the test databases.
- ``creations``: the record of what a run created, for clean-ups.
- ``guard``: refusing any connection the run did not prove safe.
- ``run_lock``: one run at a time per test database.
- ``app``: the app's databases and models, and recovering aborted transactions.
- ``transactions``: the class transaction and per-test savepoints.
- ``tables``: the library's tables: row counts, emptying them.
- ``leaks``: rows committed outside the test transaction (escaped writes).
- ``shared_connection``: one connection shared with the live server and channel workers.
"""
