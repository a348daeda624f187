"""Task assertions: assertEnqueued, assertNotEnqueued, runEnqueued.

Every call of a huey task during the test is recorded through huey's
``SIGNAL_ENQUEUED`` signal (see ``recording.recorder.TaskLog``), so these work the
same whether the queue runs tasks inline (immediate mode, the test
default) or holds them (inside ``captureTasks()``, or with
``app.queue.immediate = False``).
"""
from typing import Any

from huey.api import TaskWrapper

from proper_unittest.assertions._base import TestCaseMixin
from proper_unittest.assertions.equality import json_equal
from proper_unittest.recording.recorder import recording_of


_ANY = object()


class TaskAssertions(TestCaseMixin):
    """Assertions about the huey tasks a test enqueued."""

    def assertEnqueued(self, task: Any, count: int | None = None, args: tuple[Any, ...] | list[Any] | None = None,
                       kwargs: dict[str, Any] | None = None, msg: Any = None) -> list[Any]:
        """Assert `task` (the decorated function or its name) was enqueued
        during this test: at least once, or exactly `count` times, counting
        only calls whose positional `args` (a tuple or list) and `kwargs`
        equal those given (a boolean only equals a boolean). Returns the matching calls (``.args``,
        ``.kwargs``, ``.run``)."""
        name = _task_name(task)
        log = self._task_log()
        calls = log.named(name)
        matches = [
            call for call in calls
            if (args is None or json_equal(tuple(args), tuple(call.args)))
            and (kwargs is None or json_equal(dict(kwargs), dict(call.kwargs)))
        ]
        if (count is None and not matches) or (count is not None and len(matches) != count):
            wanted = "at least once" if count is None else f"{count} time(s)"
            filters = "".join(
                f" with {label}={value!r}" for label, value in (("args", args), ("kwargs", kwargs))
                if value is not None
            )
            self.fail(self._formatMessage(
                msg, f"Expected {name} to be enqueued {wanted}{filters}; it was {len(matches)} time(s).\n"
                     f"{_listing(log.entries)}"
            ))
        return matches

    def assertNotEnqueued(self, task: Any, msg: Any = None) -> None:
        """Assert `task` (the decorated function or its name) was not
        enqueued during this test."""
        name = _task_name(task)
        log = self._task_log()
        if log.named(name):
            self.fail(self._formatMessage(
                msg, f"Expected {name} not to be enqueued; it was {len(log.named(name))} time(s).\n"
                     f"{_listing(log.entries)}"
            ))

    def runEnqueued(self) -> list[Any]:
        """Run, inline and in order, every task enqueued during this test
        that has not run yet (those held by a non-immediate queue, and
        those a ``captureTasks()`` block took), including tasks they
        enqueue in turn and tasks scheduled for later. A failing task
        raises. Returns the results."""
        log = self._task_log()
        queue = log.queue
        results: list[Any] = []
        for _ in range(1000):  # tasks may enqueue tasks; a cycle must end
            pending = log.not_run()
            if not pending:
                return results
            _take_off_queue(queue, {entry.task.id for entry in pending})
            for entry in pending:
                entry.run = True
                results.append(entry.task.execute())
        raise AssertionError("runEnqueued(): tasks kept enqueuing tasks (over 1000 rounds).")

    def _task_log(self) -> Any:
        return recording_of(self, "task").tasks


def _task_name(task: Any) -> str:
    if isinstance(task, str):
        return task
    name = task.s().name if isinstance(task, TaskWrapper) else None
    if not isinstance(name, str):
        raise TypeError(
            f"Expected a huey task (the function decorated with @app.queue.task()) or its name, got {task!r}."
        )
    return name


def _listing(entries: list[Any]) -> str:
    if not entries:
        return "No task was enqueued in this test."
    lines = "\n".join(f"  {i}. {entry.describe()}" for i, entry in enumerate(entries, 1))
    return f"Tasks enqueued in this test, in order:\n{lines}"


def _take_off_queue(queue: Any, task_ids: set[Any]) -> None:
    """Remove the given tasks from the queue's storage, leaving the others,
    so that a later consumer (or ``captureTasks``) does not run them again."""
    kept = []
    while True:
        data = queue.storage.dequeue()
        if data is None:
            break
        task = queue.deserialize_task(data)
        if task.id not in task_ids:
            kept.append((data, task.priority))
    for data, priority in kept:
        queue.storage.enqueue(data, priority)
