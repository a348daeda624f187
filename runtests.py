#!/usr/bin/env python
"""Run this repository's test suites and example apps: ``python runtests.py --help``."""

import os
import sys

# Before anything from the project is imported (the runner sets it too).
os.environ["APP_ENV"] = "test"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from proper_unittest.runner import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(prog="runtests.py", repo=True))
