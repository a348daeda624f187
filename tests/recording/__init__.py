"""Tests of proper_unittest.recording: the flight recorder, the app log, tasks, time spent."""
