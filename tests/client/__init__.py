"""Tests of proper_unittest.client: the test client, its requests and event loop."""
