#!/usr/bin/env bash
# Runs unit and acceptance tests (TF_ACC=1) and prints each test's result as
# it finishes, with the time since the start, then a summary that counts the
# skipped tests and gives each one's reason (scripts/test_report.py). The
# full verbose log is kept in .cache/test.log.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
mkdir -p .cache
log=.cache/test.log

# IAM action coverage, part 1: every emulator the suite starts records the AWS
# actions it serves here (internal/emulator/patches/actionlog.py).
actions=$PWD/.cache/aws-actions.log
rm -f "$actions"
export CLONE_EMULATOR_ACTIONS_LOG=$actions

echo "unit and acceptance tests against the emulator: one line per test as it finishes (full log: $log)"
# Acceptance tests spend most of their time waiting on the strict test
# cloud's clock (launches, health warm-up, draining), not on the CPU: run
# more of them at once than there are cores. -json streams every package's
# results as they come; -v would hold back all but one package's.
# TEST_PACKAGES (default ./...) is a list of packages.
#
# Each test binary starts its own emulator, one Python process that serves
# one request at a time. The acceptance tests are split into binaries with
# an emulator each, run side by side: the 100- and 1,000-clone tests (in a
# shared emulator every test waits behind their large describes), the drift
# table and hostile input, the other clone_pool tests, and the rest.
shards=(
  '^(TestAccClonePool_callBudget|TestAccClonePool_refresh100)$'
  '^(TestAccDrift|TestAccHostileInput)'
  '^TestAccClonePool'
)
gotest() {
  TF_ACC=1 go test -count=1 -json -timeout "${TEST_TIMEOUT:-80m}" -parallel "${TEST_PARALLEL:-4}" "$@" 2>&1
}
{
  if [ -n "${TEST_PACKAGES:-}" ]; then
    # shellcheck disable=SC2086
    gotest $TEST_PACKAGES
    exit
  fi
  # Build every test binary once, so the shards do not each build them.
  go test -count=1 -run '^$' ./... >/dev/null 2>&1 || true
  pids=()
  for i in "${!shards[@]}"; do
    skip=()
    ((i == 0)) || skip=(-skip "${shards[0]}")
    gotest -run "${shards[i]}" "${skip[@]}" ./internal/provider/ &
    pids+=($!)
  done
  all=$(IFS='|'; echo "${shards[*]}")
  gotest -skip "$all" ./... &
  pids+=($!)
  status=0
  for pid in "${pids[@]}"; do
    wait "$pid" || status=$?
  done
  exit "$status"
} | python3 scripts/test_report.py "$log"
codes=("${PIPESTATUS[@]}")
status=${codes[0]} report=${codes[1]}
if ((status == 0 && report != 0)); then
  echo "the test report failed (exit $report): see $log" >&2
  status=$report
fi

# IAM action coverage, part 2: both IAM policies against the actions the
# suite called (internal/iampolicy, TestPolicyCoversCalledActions).
echo
echo "IAM policies against the actions called ($actions):"
CLONE_IAM_ACTIONS_LOG=$actions go test -count=1 -v -run '^TestPolicyCoversCalledActions$' ./internal/iampolicy/ | grep -vE '^(=== RUN|PASS$|FAIL$)' || status=$?

exit "$status"
