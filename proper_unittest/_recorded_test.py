"""Per-test recording for the test case classes, and the assertions that
read it (tasks, broadcasts, templates), value changes and time travel.

:class:`RecordedTestMixin` goes first in the test case's bases: its
``run()`` starts a :class:`~._recording.TestRecording` before the rest of
the per-test set-up and stops it after the teardown, whatever happened;
when the flight recorder is on, the result is wrapped so that failures get
the appendix (see ``_flight_recorder``).
"""
import unittest
from typing import TYPE_CHECKING, Any, ClassVar, cast

from ._flight_recorder import ResultWithAppendix, is_enabled
from ._recording import TestRecording
from ._time import TimeTravel
from ._time_spent import TimeSpent, is_enabled as time_spent_enabled
from .assertions_broadcasts import BroadcastAssertions
from .assertions_changes import ChangeAssertions
from .assertions_tasks import TaskAssertions
from .assertions_templates import TemplateAssertions


class RecordedTestMixin(ChangeAssertions, TaskAssertions, BroadcastAssertions,
                        TemplateAssertions, TimeTravel):
    """Records what each test does; see the module docstring."""

    #: Add the flight recorder's appendix to failures and errors (and keep
    #: the SQL it lists). ``PROPER_UNITTEST_FLIGHT_RECORDER=0`` turns it off
    #: for a whole run.
    flight_recorder = True

    _recording: Any = None
    #: Where the running test's time goes (--durations), read by the runner.
    _time_spent: TimeSpent | None = None

    if TYPE_CHECKING:  # set by the test case's class set-up
        app: Any
        _databases: ClassVar[dict[int, Any]]

    def run(self, result: unittest.TestResult | None = None) -> unittest.TestResult | None:
        """Run the test with its recording on (see the module docstring)."""
        if not getattr(type(self), "_proper_ready", False):
            return super().run(result)  # the base class reports the misconfiguration
        if result is None:
            result = self.defaultTestResult()
            start, stop = getattr(result, "startTestRun", None), getattr(result, "stopTestRun", None)
            if start is not None:
                start()
            try:
                return self.run(result)
            finally:
                if stop is not None:
                    stop()
        appendix = is_enabled(self)
        if time_spent_enabled():
            self._time_spent = TimeSpent().install(self.app, self._databases.values())
        recording = TestRecording(self.app, self._databases.values(), record_sql=appendix)
        self._recording = recording.start()
        try:
            super().run(cast(unittest.TestResult, ResultWithAppendix(result, self, recording)) if appendix else result)
        finally:
            recording.stop()
            if self._time_spent is not None:
                self._time_spent.uninstall()
                self._time_spent = None
            # The responses and SQL it kept are done with; a runner that
            # keeps the test object would otherwise keep them too.
            self._recording = None
        return result
