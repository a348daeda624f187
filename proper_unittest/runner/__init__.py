"""The test runner: ``python -m proper_unittest`` and ``proper-unittest``.

Modules, one concept each:

- :mod:`.cli`: the command line, ``main()``; several suites, one process each.
- :mod:`.labels`: what a label names; :class:`~.labels.Command`, what a
  script running the runner adds (this repository's ``runtests.py``: its
  suites and example apps, kept out of the package).
- :mod:`.session`: one project's run; :mod:`.loading` (loading tests, load
  errors); :mod:`.app_check` (the app and its safety checks).
- :mod:`.order`: reordering, and the one balanced split of whole test
  classes, for :mod:`.shard` (``--shard``) and :mod:`.parallel` (workers).
- :mod:`.procs`: every child process: its command line (the run's options,
  by part), starting it, waiting for it, stopping it; :mod:`.forking`
  (parallel workers forked once the tests are loaded, when that is safe;
  :mod:`.descriptors`, what they would share);
  :mod:`.signals` (SIGTERM/SIGINT, passed on to children).
- :mod:`.child_runs`: tests run in a fresh child process, for
  :mod:`.bisection` (``--bisect``) and :mod:`.rerun` (failed tests rerun
  alone, order-dependent ones labelled).
- :mod:`.records` (per-test records, failed ids), :mod:`.results` (counts,
  summary), :mod:`.junit`, :mod:`.history` (``.proper_unittest/``),
  :mod:`.coverage_support`.
- :mod:`.supervisor`, :mod:`.journal` and :mod:`.run_folders`: a run's
  report kept out of its tests' reach, the folders of runs that are gone.
- :mod:`.problems`: what the runner tells the user on stderr (``info()``,
  usage errors).
"""

from .cli import console_main, main

__all__ = ["console_main", "main"]
