"""Work a test left behind, and the fence that keeps it out of later tests.

:class:`LeftRunning` is the error of a test that left work the library
could not end before rolling it back (a WebSocket session, a task, channel
code in a worker thread). Channel code still running in a worker thread
after its test was rolled back carries a mark in its context
(:data:`running_job`); once its test has given up on it, every database
connection or statement and every broadcast it attempts raises
:class:`LeftRunning` (:func:`refuse_if_outlived`) instead of reaching the
next test.
"""
from contextvars import ContextVar
from typing import Protocol


class LeftRunning(Exception):
    """A test left work running that the library could not end before
    rolling the test back: a WebSocket session, a task, or channel code in
    a worker thread (the message names it and where it was). Also raised
    inside channel code that outlived its test, when it tries to use the
    database or broadcast."""


class OutlivableJob(Protocol):
    """What the fence asks of the channel code running in a context."""

    @property
    def outlived(self) -> bool:
        """True once its test was rolled back without it."""

    def refusal(self, what: str) -> str:
        """The message refusing `what`."""


#: The channel job whose code runs in this context (set in its worker
#: thread, in the job's own copy of the context).
running_job: ContextVar[OutlivableJob | None] = ContextVar("proper_unittest_channel_job", default=None)


def refuse_if_outlived(what: str, *details: object) -> None:
    """Raise :class:`LeftRunning` when called from channel code whose test
    ended without it; ``what.format(*details)`` names what is refused (only
    formatted then: this runs before every statement of a shared connection)."""
    job = running_job.get()
    if job is not None and job.outlived:
        raise LeftRunning(job.refusal(what.format(*details)))
