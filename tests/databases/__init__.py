"""Tests of proper_unittest.databases: safety, names, provisioning, the guard, transactions, leaks."""
