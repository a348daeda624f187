"""What is put back after each test, and what tests are kept from: private
to the library (only what ``proper_unittest`` exports is public).

- ``app_state``: the app's config, cache, queue mode, outbox and ``current``.
- ``class_context``: each class's and test's copy of the context variables.
- ``overrides``: ``override_config`` and ``override_cache``.
- ``storage_roots``: storage redirected to temporary folders, stored files.
- ``server_services``: refusing a server-backed cache, queue or cable.
- ``process_state``: os.environ, the working directory, sys.path, loggers, signals, threads.
- ``network``: refusing connections to other hosts (``allow_network``).
- ``local_names``: the network guard's lookups, answered from /etc/hosts and localhost.
- ``opt_ins``: ``allow_outside``, opting in to the above.
- ``outlived``: refusing work that outlived its test.
- ``time_travel``: ``travel_to``.
- ``timeout``: the per-test time limit (``TestTimeout``).
- ``termination``: exit and SIGTERM hooks, so clean-ups run.
- ``password_cost``: hashing passwords at the minimum cost.
"""
