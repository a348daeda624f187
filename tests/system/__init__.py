"""Tests of proper_unittest.system: SystemTestCase against a real browser."""
