"""proper_unittest's own test suite."""
