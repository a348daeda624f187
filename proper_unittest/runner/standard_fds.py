"""The run's report goes where the run's output went, whatever the tests
did to file descriptors 1 and 2.

A test that points standard output or error elsewhere at the descriptor
level (``os.dup2(devnull, 1)``, ``os.close(2)``) would take the summary,
the failures and the JUnit-less CI log with it: Python's ``sys.stdout``
still writes to descriptor 1, wherever that now points. The per-test
process-state check sees ``sys.stdout`` objects, not descriptors. So the
runner keeps a copy of both descriptors while the tests run
(:meth:`StandardDescriptors.keep`) and, before it reports, puts back
whichever no longer names what it named (:meth:`put_back`), saying so.
"""
import os
import sys

from . import descriptors
from .problems import info

_NAMES = {1: "standard output", 2: "standard error"}


def _identity(fd: int) -> tuple[int, int, int] | None:
    try:
        found = os.fstat(fd)
    except OSError:  # closed
        return None
    return (found.st_dev, found.st_ino, found.st_rdev)


class StandardDescriptors:
    """Copies of descriptors 1 and 2 as the run's tests start."""

    def __init__(self) -> None:
        self._kept: dict[int, tuple[int, tuple[int, int, int] | None]] = {}

    def keep(self) -> "StandardDescriptors":
        """Copy both descriptors (those that are open)."""
        for fd in _NAMES:
            identity = _identity(fd)
            if identity is None:
                continue
            copy = os.dup(fd)  # not inheritable: no test's child gets it
            descriptors.own(copy)
            self._kept[fd] = (copy, identity)
        return self

    def put_back(self) -> list[str]:
        """Point each descriptor that changed back at what it was; close
        the copies; return what was put back, one line each (also said on
        standard error, once it is back)."""
        changed = []
        for fd, (copy, identity) in self._kept.items():
            if _identity(fd) != identity:
                stream = sys.stdout if fd == 1 else sys.stderr
                try:
                    stream.flush()  # what was written meanwhile goes where the test sent it
                except (OSError, ValueError):
                    pass
                os.dup2(copy, fd)
                changed.append(f"a test pointed file descriptor {fd} ({_NAMES[fd]}) elsewhere; "
                               "put back for the report.")
            os.close(copy)
        self._kept.clear()
        for line in changed:
            info(f"proper_unittest: {line}")
        return changed
