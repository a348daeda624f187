"""Tests of proper_unittest.isolation: what a test changes is put back, what it reaches is refused."""
