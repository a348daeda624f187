"""What a password hash costs at the app's cost and at the minimum cost the
library uses under APP_ENV=test, per scheme: building Proper's ``Auth``
(its backend check and decoy hash) and one ``hash_password``.

Each round builds both, alternating which goes first; CPU time of this
process; the table shows medians (range) over the rounds and the ratio
minimum / app cost, per round.

    .venv/bin/python bench/password_cost.py [--rounds 7] [--hashes 5]
"""
import argparse
import os
import statistics
import sys
import time

os.environ["APP_ENV"] = "test"
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import proper_unittest  # noqa: E402,F401  (installs the minimum cost)
from proper.auth import Auth  # noqa: E402

KEYS = ["k" * 64]
SCHEMES = ("argon2", "pbkdf2_sha512", "pbkdf2_sha256", "sha512_crypt")


def measure(scheme: str, fast: bool, hashes: int) -> tuple[float, float]:
    """(ms to build Auth, ms per hash_password), CPU time."""
    os.environ["PROPER_UNITTEST_FAST_PASSWORD_HASHING"] = "1" if fast else "0"
    start = time.process_time()
    auth = Auth(KEYS, hash_name=scheme)
    built = time.process_time()
    for _ in range(hashes):
        auth.hash_password("correct horse battery")
    done = time.process_time()
    return (built - start) * 1000, (done - built) * 1000 / hashes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--hashes", type=int, default=5)
    args = parser.parse_args()
    print("| scheme | Auth() at app cost, ms | at minimum, ms | one hash at app cost, ms "
          "| at minimum, ms | minimum / app cost, per hash |")
    print("|---|---|---|---|---|---|")
    for scheme in SCHEMES:
        measure(scheme, True, 1)  # load the backend
        runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for round_no in range(args.rounds):
            for fast in ((True, False) if round_no % 2 else (False, True)):
                runs[fast].append(measure(scheme, fast, args.hashes))
        ratios = [f[1] / a[1] for f, a in zip(runs[True], runs[False])]

        def cell(values: list[float]) -> str:
            return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

        print(f"| {scheme} | {cell([r[0] for r in runs[False]])} | {cell([r[0] for r in runs[True]])} "
              f"| {cell([r[1] for r in runs[False]])} | {cell([r[1] for r in runs[True]])} "
              f"| {statistics.median(ratios):.4f} |")


if __name__ == "__main__":
    main()
