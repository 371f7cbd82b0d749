#!/usr/bin/env bash
# Runs unit and acceptance tests (TF_ACC=1) with a line per test, so the output
# shows acceptance tests passing rather than skipped, then a summary. The full
# verbose log is kept in .cache/test.log.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
log=.cache/test.log

# IAM action coverage, part 1: every emulator the suite starts records the AWS
# actions it serves here (internal/emulator/patches/actionlog.py).
actions=$PWD/.cache/aws-actions.log
rm -f "$actions"
export CLONE_EMULATOR_ACTIONS_LOG=$actions

status=0
# Acceptance tests spend most of their time waiting on the strict test
# cloud's clock (launches, health warm-up, draining), not on the CPU: run
# more of them at once than there are cores.
TF_ACC=1 go test -count=1 -v -timeout "${TEST_TIMEOUT:-80m}" -parallel "${TEST_PARALLEL:-4}" ./... > "$log" 2>&1 || status=$?

grep -E '^(--- (PASS|FAIL|SKIP)|ok  |FAIL|panic:)' "$log" || true
pass=$(grep -cE '^--- PASS: TestAcc' "$log" || true)
skip=$(grep -cE '^--- SKIP: TestAcc' "$log" || true)
fail=$(grep -cE '^--- FAIL' "$log" || true)
units=$(grep -cE '^--- PASS: (Test[^A]|TestA[^c]|Fuzz)' "$log" || true)
echo
echo "acceptance tests: $pass passed, $skip skipped; other tests: $units passed; failures: $fail (full log: $log)"
if ((status != 0)); then
  echo
  echo "failed tests, with their output:"
  awk '/^=== RUN/ {buf=""} {buf=buf $0 "\n"} /^--- FAIL/ {printf "%s", buf}' "$log" | tail -200
fi

# IAM action coverage, part 2: both IAM policies against the actions the
# suite called (internal/iampolicy, TestPolicyCoversCalledActions).
echo
echo "IAM policies against the actions called ($actions):"
CLONE_IAM_ACTIONS_LOG=$actions go test -count=1 -v -run '^TestPolicyCoversCalledActions$' ./internal/iampolicy/ | grep -vE '^(=== RUN|PASS$|FAIL$)' || status=$?

exit "$status"
