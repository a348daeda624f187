"""What a test did, recorded while it runs: private to the library (only what
``proper_unittest`` exports is public).

- ``recorder``: the per-test recording (requests, SQL, tasks, broadcasts, templates).
- ``flight_recorder``: the appendix on a failing test's report.
- ``time_spent``: where each test's time went (``--durations``).
- ``app_log``: the app's log, shown on failure.
- ``streams``: the Turbo Streams broadcast on the app's cable.
- ``tasks``: the tasks a test enqueued.
"""
