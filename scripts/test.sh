#!/usr/bin/env bash
# Runs unit and acceptance tests (TF_ACC=1) and prints each test's result as
# it finishes, with the time since the start, then a summary that counts the
# skipped tests and gives each one's reason (scripts/test_report.py). The
# full verbose log is kept in .cache/test.log.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
mkdir -p .cache
log=.cache/test.log

echo "unit and acceptance tests against the emulator: one line per test as it finishes (full log: $log)"
# Acceptance tests spend most of their time waiting on the strict test
# cloud's clock (launches, health warm-up, draining), not on the CPU: run
# more of them at once than there are cores. -json streams every package's
# results as they come; -v would hold back all but one package's.
# TEST_PACKAGES (default ./...) is a list of packages. The drift table and
# the hostile-input tests run in make chaos (scripts/chaos.sh), which CI runs
# after this; TEST_SKIP="" runs them here too.
# shellcheck disable=SC2086
TF_ACC=1 go test -count=1 -json -timeout "${TEST_TIMEOUT:-80m}" -parallel "${TEST_PARALLEL:-12}" \
  -skip "${TEST_SKIP-^(TestAccDrift|TestAccHostileInput)}" ${TEST_PACKAGES:-./...} 2>&1 |
  python3 scripts/test_report.py "$log"
codes=("${PIPESTATUS[@]}")
status=${codes[0]} report=${codes[1]}
if ((status == 0 && report != 0)); then
  echo "the test report failed (exit $report): see $log" >&2
  status=$report
fi
exit "$status"
