#!/usr/bin/env bash
# Every suite (the library's own tests and the example app's), on SQLite,
# PostgreSQL and MariaDB, under runtests.py; plus python -m unittest and
# pytest on the same suites. Prints each step's result and one total line.
# PU_POSTGRES_URL / PU_MYSQL_URL point the server runs at other servers.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
# Every warning is an error, in every suite and in the processes they start:
# the library must emit none. Only these named third-party ones pass:
WARNING_FILTERS=(
  error
  # itsdangerous (Proper's signed auth cookies) calls
  # datetime.utcfromtimestamp(), deprecated since Python 3.12.
  "ignore:datetime.datetime.utcfromtimestamp() is deprecated:DeprecationWarning:itsdangerous.timed"
  # peewee 3's MySQLDatabase._connect passes db= to PyMySQL, which wants
  # database=; every MySQL/MariaDB connection does it, the app's included.
  "ignore:'db' is deprecated:DeprecationWarning:peewee"
  # Passlib 1.7 reads argon2.__version__ when it loads its argon2 backend
  # (the auth addon's scheme); argon2-cffi 23+ deprecates that attribute.
  "ignore:Accessing argon2.__version__ is deprecated:DeprecationWarning:passlib.handlers.argon2"
)
PYTHONWARNINGS="${PYTHONWARNINGS:-$(IFS=,; echo "${WARNING_FILTERS[*]}")}"
export PYTHONWARNINGS

BACKENDS=(
  "sqlite:///:memory:"
  "${PU_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/proper_unittest_test}"
  "${PU_MYSQL_URL:-mysql://root@127.0.0.1:3306/proper_unittest_test}"
)
passed=0; failed=0; skipped=0; status=0
log=$(mktemp)

step() {  # step NAME COMMAND...: run, echo output, add up its "N passed, N failed" line
  local name=$1; shift
  echo "=== $name"
  local started=$SECONDS
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  echo "=== $name: $((SECONDS - started)) s"
  local p f s
  read -r p f s <<<"$(PY_LOG="$log" "$PY" scripts/count_results.py)"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
  if [[ $rc -ne 0 ]]; then status=1; echo "!!! $name exited with $rc"; fi
}

# Each test's seconds on SQLite, measured on this machine: they balance the
# two workers below (--parallel splits by recorded durations), where a fresh
# checkout has none (by count, the workers took 154 s and 266 s).
[[ -e .proper_unittest/durations.json ]] || { mkdir -p .proper_unittest && cp scripts/sqlite_durations.json .proper_unittest/durations.json; }
for url in "${BACKENDS[@]}"; do
  backend=${url%%:*}
  # On SQLite the library's suite runs the runner's own tests (child runs,
  # skipped on the servers): the longest step, so it gets two workers.
  parallel=()
  [[ $backend == sqlite ]] && parallel=(--parallel 2)
  step "runtests.py ${parallel[*]:-}, all suites, $backend" env TEST_DATABASE_URL="$url" "$PY" runtests.py "${parallel[@]}"
done
step "runtests.py --parallel 2, example app, postgresql" \
  env TEST_DATABASE_URL="${BACKENDS[1]}" "$PY" runtests.py myapp --parallel 2
# Under unittest and pytest, the library's tests whose outer runner can
# change what they see. Not again: the runner's (tests/runner/), the
# databases' (tests/databases/: plain TestCases on their own databases and
# child runs), typing and packaging (child processes): the outer runner
# changes nothing for them, and they run under runtests.py on every backend
# above (CI's 20 minutes do not fit them three times).
NOT_AGAIN=(-not -path 'tests/runner/*' -not -path 'tests/databases/*' -not -name test_typing.py -not -name test_packaging.py)
OUTER_RUNNER_MODULES=$(find tests -name 'test_*.py' "${NOT_AGAIN[@]}" | sort | sed 's/\.py$//; s#/#.#g')
# The pytest run of them goes side by side with the unittest run (their own
# databases: SQLite in memory and PostgreSQL), its output shown after it.
beside=$(mktemp)
# shellcheck disable=SC2086
(
  log=$(mktemp); passed=0; failed=0; skipped=0; status=0
  step "pytest, library tests the outer runner can change, postgresql" env TEST_DATABASE_URL="${BACKENDS[1]}" \
    "$PY" -m pytest -q -p no:cacheprovider $(echo "$OUTER_RUNNER_MODULES" | sed 's#\.#/#g; s#$#.py#')
  echo "$passed $failed $skipped $status" > "$beside.counts"; rm -f "$log"
) > "$beside" 2>&1 &
beside_pid=$!
step "python -m unittest, library tests the outer runner can change, sqlite" "$PY" -m unittest $OUTER_RUNNER_MODULES
wait "$beside_pid"
cat "$beside"
if read -r p f s st < "$beside.counts"; then
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s)); [[ $st -ne 0 ]] && status=1
else
  status=1; echo "!!! the pytest run of the library tests left no counts"
fi
rm -f "$beside" "$beside.counts"
for url in "${BACKENDS[1]}" "${BACKENDS[2]}"; do
  step "python -m unittest, example app, ${url%%:*}" \
    env TEST_DATABASE_URL="$url" bash -c "cd examples/myapp && ../../$PY -m unittest discover -s tests -t ."
done
for url in "${BACKENDS[0]}" "${BACKENDS[2]}"; do
  step "pytest, example app, ${url%%:*}" \
    env TEST_DATABASE_URL="$url" bash -c "cd examples/myapp && ../../$PY -m pytest -q -p no:cacheprovider tests"
done
for url in "${BACKENDS[1]}" "${BACKENDS[2]}"; do
  step "pytest -n 2 (xdist, one database per worker), example app, ${url%%:*}" \
    env TEST_DATABASE_URL="$url" bash -c "cd examples/myapp && ../../$PY -m pytest -q -p no:cacheprovider -n 2 tests"
done
# Types: the package and the typed example module must pass mypy --strict,
# and the example pyright in strict mode ([tool.pyright] in pyproject.toml);
# each fails the run otherwise.
step "mypy --strict, package" "$PY" -m mypy --strict proper_unittest
step "mypy --strict, typed example test module" \
  "$PY" -m mypy --strict --follow-imports=silent examples/myapp/tests/test_typed.py
step "pyright (strict), typed example test module" \
  env PYRIGHT_PYTHON_IGNORE_WARNINGS=1 "$PY" -m pyright --pythonpath "$PY" examples/myapp/tests/test_typed.py

rm -f "$log"
echo
if [[ $skipped -gt 0 ]]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status
