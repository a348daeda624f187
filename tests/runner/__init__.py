"""Tests of proper_unittest.runner, run as child processes on small projects."""
