"""Capturing background tasks instead of running them."""
from typing import Any

from huey.storage import MemoryStorage

from proper_unittest.recording.recorder import task_log_for


class CapturedTasks(list[Any]):
    """The huey tasks enqueued inside :meth:`ProperTestCase.captureTasks`,
    in order. Each has ``name``, ``args`` and ``kwargs``. They went through
    huey's serializer, as with a real queue, so unpicklable arguments fail."""

    def __init__(self, queue: Any) -> None:
        super().__init__()
        self.queue = queue

    @property
    def names(self) -> list[str]:
        """The task names, in order."""
        return [task.name for task in self]

    def named(self, name: str) -> list[Any]:
        """The captured tasks called `name`."""
        return [task for task in self if task.name == name]

    def run(self) -> list[Any]:
        """Run every captured task now, inline, and return their results
        (failing tasks raise). Tasks scheduled for later run too."""
        log = task_log_for(self.queue)
        results: list[Any] = []
        for task in list(self):
            if log is not None:
                log.mark_run(task)  # runEnqueued() must not run it again
            results.append(task.execute())
        self.clear()
        return results


class capture_tasks:
    """Context manager: switch the app's huey queue out of immediate mode,
    collect what is enqueued, and switch back (which drops the queue's
    in-memory storage, as huey does)."""

    def __init__(self, app: Any) -> None:
        self.queue = app.queue
        self.tasks = CapturedTasks(self.queue)

    def __enter__(self) -> CapturedTasks:
        self._was_immediate = self.queue.immediate
        self.queue.immediate = False
        self._before = {task.id for task in self.queue.pending()}
        return self.tasks

    def __exit__(self, *exc_info: object) -> None:
        captured = [task for task in self.queue.pending() if task.id not in self._before]
        if isinstance(self.queue.storage, MemoryStorage):
            self.queue.flush()
        self.queue.immediate = self._was_immediate
        self.tasks.extend(captured)


def flush_memory_queue(queue: Any) -> None:
    """Drop tasks left on an in-memory queue (e.g. scheduled for later)."""
    if isinstance(queue.storage, MemoryStorage):
        queue.flush()


