#!/usr/bin/env bash
# Runs the chaos tests against the emulator the test binary starts itself:
# SIGKILLed applies (TestChaosKills), the lifecycle under throttling, server
# errors and latency (TestChaosFaults), hostile input (TestAccHostileInput)
# and out-of-band drift (TestAccDrift*), then one summary line of counts.
# CLONE_CHAOS_SEED=N repeats a run; the full log is kept in .cache/chaos.log.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
log=.cache/chaos.log

started=$(date +%s)
status=0
# The trials wait on the strict emulator's clock, not on the CPU: run all
# of them at once.
CLONE_CHAOS=1 TF_ACC=1 go test ./internal/provider/ -count=1 -v -timeout "${CHAOS_TIMEOUT:-30m}" \
  -parallel "${CHAOS_PARALLEL:-16}" -run '^(TestChaos|TestAccHostileInput|TestAccDrift)' > "$log" 2>&1 || status=$?

grep -E '^ *(--- (PASS|FAIL|SKIP)|ok  |FAIL|panic:)|chaos seed' "$log" | sort -u -k1,3 || true

# Sums key=value over the tests' "chaos-count:" lines.
count() {
  { grep -oE "chaos-count:.*" "$log" || true; } | { grep -oE "(^| )$1=[0-9]+" || true; } | awk -F= '{s += $2} END {print s + 0}'
}
# Hostile-input and drift tests that log no count are counted by their
# leaf subtests (or the test itself when it has none).
leaves() {
  { grep -E "^ *--- (PASS|FAIL): $1" "$log" || true; } | awk '{print $3}' | sort -u |
    awk '{n[NR] = $0} END {for (i = 1; i <= NR; i++) if (i == NR || index(n[i+1], n[i] "/") != 1) c++; print c + 0}'
}
drift=$(count drift)
((drift > 0)) || drift=$(leaves TestAccDrift)
bad=$(count bad_inputs)
((bad > 0)) || bad=$(leaves TestAccHostileInput)

echo
echo "kills: $(count kills) (of a recovering apply: $(count recovery_kills)); faults: $(count throttled) throttled," \
  "$(count server_errors) server errors over $(count calls) calls; wall time $(($(date +%s) - started))s; full log: $log"
echo "chaos: $(count trials) trials, $(count faults) faults injected, $drift drift cases, $bad bad inputs, $(count orphans) orphans found"
if ((status != 0)); then
  echo
  echo "failures (the whole story of each test is in $log):"
  grep -E -- '--- FAIL|orphan after destroy|did not converge|recovering apply exited|destroy exited|exited -?[0-9]+, want|not reached|ended \(|panic:' "$log" | tail -100
fi
exit "$status"
