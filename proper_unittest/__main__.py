"""``python -m proper_unittest``: run the current project's tests (see ``--help``)."""

import sys

from proper_unittest.runner import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m proper_unittest"))
