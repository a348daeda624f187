"""The test client, private to the library (only what ``proper_unittest``
exports is public).

- ``client``: ``ProperClient`` and ``AsyncProperClient`` (requests, cookies,
  sign-in, uploads, redirect following).
- ``response``: ``Response``, what a request returns (imports nothing from
  the package).
- ``event_loop``: the one event loop per test the synchronous client runs in.
- ``turbo``: Turbo Streams and Frames (request headers, parsed replies).
"""
