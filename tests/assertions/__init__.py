"""Tests of proper_unittest.assertions: each assertion passing, and failing with its message."""
