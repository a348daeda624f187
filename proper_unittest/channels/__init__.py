"""WebSocket channels in tests: private to the library (only what
``proper_unittest`` exports is public).

- ``connection``: ``ChannelSession``, a test's cable connection (``ErrorReply``, ``ReceiveTimeout``).
- ``workers``: running channel code in worker threads, inside the test's transaction.
"""
