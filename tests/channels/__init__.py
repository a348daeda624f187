"""Tests of proper_unittest.channels: connections to the app's cable and the worker thread."""
