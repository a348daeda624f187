"""Moving the clock in a test: ``self.travel_to(...)`` and ``self.travel(...)``.

Built on time-machine, which changes what ``time.time()``,
``datetime.now()``, ``date.today()`` and friends return, process-wide, at
the C level: the app's code run by ``self.client`` (same thread, inline)
sees the same moved clock, including code that did ``from time import
time`` at import, which mocking a name would miss. ``time.monotonic()`` is
left alone, so asyncio timeouts keep working.
"""
import datetime as dt
from types import ModuleType
from typing import Any

from proper_unittest.assertions._base import TestCaseMixin

from proper_unittest.errors import ConfigurationError


class TimeTravel(TestCaseMixin):
    """Test case methods to freeze or move the clock; undone at the end
    of the test (pass or fail), or at the end of a ``with`` block."""

    def travel_to(self, destination: dt.datetime | dt.date | float | str, *, tick: bool = False) -> "Travel":
        """Move the clock to `destination` (a datetime, date, POSIX
        timestamp or ISO 8601 string; naive datetimes are taken as UTC),
        frozen there unless ``tick=True``. Works as a statement (until the
        test ends) or as a context manager (until the block ends)::

            self.travel_to(datetime(2030, 1, 1, tzinfo=UTC))
            with self.travel_to("2030-01-01T09:00Z") as clock:
                clock.shift(timedelta(days=1))     # or clock.move_to(...)
        """
        time_machine = _time_machine()
        traveller = time_machine.travel(destination, tick=tick)
        travel = Travel(traveller, traveller.start())
        self.addCleanup(travel.stop)
        return travel

    def travel(self, delta: dt.timedelta | float, *, tick: bool = False) -> "Travel":
        """Move the clock forward by `delta` (a timedelta or seconds) from
        now; frozen there unless ``tick=True``. Same use as :meth:`travel_to`."""
        if not isinstance(delta, dt.timedelta):
            if not isinstance(delta, (int, float)):
                raise TypeError(f"travel() takes a timedelta or a number of seconds, got {delta!r}.")
            delta = dt.timedelta(seconds=delta)
        return self.travel_to(dt.datetime.now(dt.timezone.utc) + delta, tick=tick)


class Travel:
    """A clock change in progress: ``shift(delta)``, ``move_to(destination)``,
    ``stop()``; as a context manager, stops at the end of the block."""

    def __init__(self, traveller: Any, coordinates: Any) -> None:
        self._traveller = traveller
        self._coordinates = coordinates
        self._stopped = False

    def shift(self, delta: dt.timedelta | float) -> None:
        """Move the clock by `delta` (a timedelta or seconds)."""
        self._coordinates.shift(delta)

    def move_to(self, destination: dt.datetime | dt.date | float | str) -> None:
        """Move the clock to `destination`."""
        self._coordinates.move_to(destination)

    def time(self) -> float:
        """The travelled clock's POSIX time."""
        seconds: float = self._coordinates.time()
        return seconds

    def stop(self) -> None:
        """Put the real clock back (again: no effect)."""
        if not self._stopped:
            self._stopped = True
            self._traveller.stop()

    def __enter__(self) -> "Travel":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _time_machine() -> ModuleType:
    try:
        import time_machine
    except ImportError:  # pragma: no cover - a declared dependency
        raise ConfigurationError(
            "Time travel needs the time-machine package: pip install time-machine"
        ) from None
    return time_machine
