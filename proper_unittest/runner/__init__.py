"""The test runner: ``python -m proper_unittest``, ``proper-unittest`` and ``runtests.py``.

Modules: :mod:`.cli` (command line), :mod:`.labels` (what a label names),
:mod:`.session` (one project's run), :mod:`.loading` (loading tests, load
errors), :mod:`.app_check` (the app and its safety checks), :mod:`.order`,
:mod:`.shard`, :mod:`.parallel` and :mod:`.procs` (worker processes),
:mod:`.signals`, :mod:`.child_runs` (tests run in a fresh child
process), :mod:`.bisection` (``--bisect``), :mod:`.rerun` (failed tests
rerun alone, order-dependent ones labelled), :mod:`.records`, :mod:`.results`, :mod:`.junit`,
:mod:`.history` (``.proper_unittest/``), :mod:`.coverage_support`,
:mod:`.supervisor`, :mod:`.journal` and :mod:`.run_folders` (a run's report
kept out of its tests' reach, the folders of runs that are gone),
:mod:`.problems` (usage errors).
"""

from .cli import console_main, main

__all__ = ["console_main", "main"]
