"""What the test case mixins are built on, as a type checker sees them.

The mixins (assertions, recording, time travel) use ``unittest.TestCase``'s
methods (``fail``, ``addCleanup``...) and only ever run mixed into one. At
run time they stand alone (their base is ``object``, keeping the test
cases' method resolution order as it is); to a type checker they are
TestCases, so their calls of those methods are checked.
"""
import unittest
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    TestCaseMixin = unittest.TestCase
    AsyncTestCaseMixin = unittest.IsolatedAsyncioTestCase
else:
    TestCaseMixin = object
    AsyncTestCaseMixin = object
