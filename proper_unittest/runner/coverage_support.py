"""Measure parallel workers when the runner itself runs under ``coverage run``.

``coverage run -m proper_unittest --parallel N`` needs no configuration:
each worker is started under ``coverage run --parallel-mode`` with the
parent's settings (config file, data file, --source, --include, --omit,
--branch, --concurrency).  When the workers are done, the parent folds their
data into its own (so ``coverage report`` shows the whole run), keeps their
data files, and at exit leaves a parallel copy of its own data beside them
(so ``coverage combine`` gives the same total).
"""

import atexit
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coverage import Coverage

# Relative paths in coverage's settings are taken from the directory it started in.
_START_DIR = os.getcwd()


def current_coverage() -> "Coverage | None":
    """Return the running ``coverage.Coverage`` of this process, or None."""
    module = sys.modules.get("coverage")
    if module is None or not hasattr(module, "Coverage"):
        return None
    coverage_class: "type[Coverage]" = module.Coverage
    return coverage_class.current()


def python_command() -> list[str]:
    """Return how to start a child Python: plain, or under coverage when we are."""
    cov = current_coverage()
    if cov is None:
        return [sys.executable]
    config = cov.config
    command = [sys.executable, "-m", "coverage", "run", "--parallel-mode", f"--data-file={_data_file(cov)}"]
    if config.config_file:
        command.append(f"--rcfile={config.config_file}")
    if config.source:
        command.append("--source=" + ",".join(_absolute_if_path(source) for source in config.source))
    if config.run_include:
        command.append("--include=" + ",".join(config.run_include))
    if config.run_omit:
        command.append("--omit=" + ",".join(config.run_omit))
    if config.branch:
        command.append("--branch")
    if config.concurrency:
        command.append("--concurrency=" + ",".join(config.concurrency))
    return command


def combine_worker_data(worker_pids: Sequence[int]) -> None:
    """Fold the data files of the workers with *worker_pids* into ours (when measured)."""
    cov = current_coverage()
    if cov is None:
        return
    base = Path(_data_file(cov))
    files = [
        str(path) for path in base.parent.glob(f"{base.name}.*")
        if any(f".pid{pid}." in path.name for pid in worker_pids)
    ]
    if files:
        cov.combine(data_paths=files, keep=True)
        atexit.register(_write_parallel_copy, cov)


def _write_parallel_copy(cov: "Coverage") -> None:
    """Write our data as a parallel data file too, for ``coverage combine``."""
    from coverage import CoverageData

    data = cov.get_data()
    copy = CoverageData(basename=data.base_filename(), suffix=True)
    copy.update(data)
    copy.write()


def _data_file(cov: "Coverage") -> str:
    return str(Path(_START_DIR, cov.config.data_file))


def _absolute_if_path(source: str) -> str:
    path = Path(_START_DIR, source)
    return str(path) if path.exists() else source
