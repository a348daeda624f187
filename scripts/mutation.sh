#!/usr/bin/env bash
# Mutation check (cosmic-ray, in the `dev` extra) of the modules that decide
# what a run may touch, create and drop. Not part of CI: it runs the tests
# once per mutant. Each module is mutated in a throw-away copy of the
# repository (never in this tree), and only the tests that reach it run.
#
#   scripts/mutation.sh [MODULE...]   # default: every module in TESTS below
#
# Prints cosmic-ray's report per module (surviving mutants listed) and
# leaves the sessions in $PU_MUTATION_DIR (default: a new temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$PWD/.venv/bin/python}
BIN=$(dirname "$PY")
export TEST_DATABASE_URL=${TEST_DATABASE_URL:-sqlite:///:memory:}

# The tests that reach each module, fast ones (in-process) first.
declare -A TESTS=(
  [_names]="tests.databases.test_names.NameCharsetTests tests.databases.test_names.DerivedNameTests tests.databases.test_safety.NameRuleTests"
  [_sqlite_names]="tests.databases.test_sqlite_names.UriTests tests.databases.test_safety.NameRuleTests"
  [safety]="tests.databases.test_safety.NameRuleTests tests.databases.test_names.NameCharsetTests tests.databases.test_sqlite_names.UriTests tests.databases.test_safety.EnvironmentTests tests.databases.test_safety.ReachableDatabaseTests tests.databases.test_safety.DatabaseKindTests tests.databases.test_safety.SchemaTests"
)
modules=("$@")
[[ ${#modules[@]} -gt 0 ]] || modules=(_names _sqlite_names safety)

work=${PU_MUTATION_DIR:-$(mktemp -d)}
mkdir -p "$work/repo"
# The working tree as it is (committed or not), without .venv and caches.
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/repo" 2>/dev/null || true
echo "mutating in $work/repo"

for module in "${modules[@]}"; do
  tests=${TESTS[$module]:?"no tests listed for $module"}
  config="$work/$module.toml"
  session="$work/$module.sqlite"
  cat >"$config" <<EOF
[cosmic-ray]
module-path = "proper_unittest/$module.py"
timeout = 300.0
excluded-modules = []
test-command = "$PY -m unittest -f -q $tests"

[cosmic-ray.distributor]
name = "local"
EOF
  rm -f "$session"
  (
    cd "$work/repo"
    "$BIN/cosmic-ray" init "$config" "$session"
    "$BIN/cosmic-ray" baseline "$config"
    "$BIN/cosmic-ray" exec "$config" "$session"
  )
  echo "=== $module"
  "$BIN/cr-report" "$session" | tail -n 200
done
