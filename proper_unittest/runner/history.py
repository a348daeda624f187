"""What earlier runs of a project recorded, under ``<project>/.proper_unittest/``.

``durations.json``: seconds per test id (the time since the previous test
ended, so fixtures count), used by ``--shard`` to balance shards; commit it
if every CI machine should balance on the same numbers.  ``failed.json``:
the ids of the tests that failed, for ``--failed``.  Each run updates the
entries of the tests it ran and keeps the others.
"""

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .problems import info
from .records import failed_ids

HISTORY_DIRNAME = ".proper_unittest"
DURATIONS_FILE = "durations.json"
FAILED_FILE = "failed.json"


def history_dir(project_dir: str | os.PathLike[str]) -> Path:
    """Return the folder holding the project's run history."""
    return Path(project_dir) / HISTORY_DIRNAME


def load_durations(project_dir: str | os.PathLike[str]) -> dict[str, float]:
    """Return ``{test id: seconds}`` recorded for the project ({} when none)."""
    data: dict[str, object] = _load(history_dir(project_dir) / DURATIONS_FILE, {})
    return {key: float(value) for key, value in data.items() if isinstance(value, (int, float))}


def load_failed(project_dir: str | os.PathLike[str]) -> set[str]:
    """Return the set of ids (tests, classes or modules) that failed in the last run."""
    data: list[object] = _load(history_dir(project_dir) / FAILED_FILE, [])
    return {item for item in data if isinstance(item, str)}


def record_run(
    project_dir: str | os.PathLike[str], records: Sequence[Mapping[str, Any]],
    still_exists: Callable[[str], bool] | None = None,
) -> None:
    """Update the project's durations and failed tests with this run's *records*.

    *still_exists* (a test, class or module id -> False when it is known to
    be gone) makes ``failed.json`` forget renamed and deleted tests.
    """
    folder = history_dir(project_dir)
    durations = load_durations(project_dir)
    durations.update({
        r["id"]: round(r["wall"], 4) for r in records if not (r.get("fixture") or r.get("unreached"))
    })
    ran = {r["id"] for r in records} | {r["classname"] for r in records}
    failed = {
        item for item in load_failed(project_dir)
        if item not in ran and (still_exists is None or still_exists(item))
    }
    failed.update(failed_ids(records))
    try:
        folder.mkdir(exist_ok=True)
        _write(folder / DURATIONS_FILE, dict(sorted(durations.items())))
        _write(folder / FAILED_FILE, sorted(failed))
    except OSError as error:
        info(f"warning: could not record this run in {folder}: {error}")


def _load[T](path: Path, default: T) -> T:
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):
        return default
    return data if isinstance(data, type(default)) else default


def _write(path: Path, data: object) -> None:
    """Write *data* as JSON, atomically (a reader never sees half a file)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)
