"""The assertion mixins of the test case classes (listed, in order, in
``testcase.py``): private to the library (only what ``proper_unittest``
exports is public).

- ``_base``: what the mixins are built on, as a type checker sees them.
- ``equality``: ``json_equal``, equality of JSON-like data where a bool is not 1.
- ``responses``: responses, emails, queries (``ProperAssertions``).
- ``html``: HTML by CSS selector (parsing) and ``assertSelect``, ``assertFormError``.
- ``turbo``: Turbo Streams and Frames.
- ``storage``: stored files.
- ``changes``: ``assertChanges``, ``assertNoChange``.
- ``tasks``, ``broadcasts``, ``templates``: what the test's recording kept.
- ``channels``: refused connections and subscriptions (``AsyncChannelTestCase``).
"""
