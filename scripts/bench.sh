#!/usr/bin/env bash
# Runs every benchmark (API-call benchmarks against the emulator the test
# binaries start themselves) and writes BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

cmd="TF_ACC=1 go test -run '^\$' -bench . -benchmem -count 1 ./internal/..."
out=$(TF_ACC=1 go test -run '^$' -bench . -benchmem -count 1 ./internal/... 2>&1 | grep -E '^(Benchmark|pkg:|ok|FAIL|---)' || true)
if grep -qE '^(FAIL|---)' <<<"$out"; then
  echo "$out" >&2
  exit 1
fi

# The rollout's AWS calls per batch are measured end to end through the
# recording proxy by an acceptance test that logs its table.
mkdir -p .cache
if ! TF_ACC=1 go test ./internal/provider/ -run 'TestAccClonePool_(rolloutCalls|rollout)$' -count=1 -v > .cache/bench-rollout.log 2>&1; then
  grep -E '^\s*(--- FAIL|clone_pool_rollout_test)' .cache/bench-rollout.log | tail -40 >&2
  echo "the rollout call measurement failed; full log: .cache/bench-rollout.log" >&2
  exit 1
fi
rollout=$(sed -n -e '/AWS calls per rollout batch/,/whole rollout/p' -e '/sampler:/p' .cache/bench-rollout.log | sed -E 's/^ *(clone_pool_rollout_test.go:[0-9]+: )?//')

# The pool's life at scale, through terraform and the recording proxy:
# every step of scaleSequence, BENCH_RUNS times per size, medians taken.
sizes=${BENCH_SIZES:-10,20,100,500,1000}
runs=${BENCH_RUNS:-3}
scale_cmd="CLONE_BENCH_SIZES=$sizes CLONE_BENCH_RUNS=$runs CLONE_BENCH_OUT=\$PWD/.cache/bench-scale.jsonl TF_ACC=1 go test ./internal/provider/ -run '^TestBenchClonePoolScale\$' -count=1 -timeout 600m -v"
mkdir -p .cache
scale_started=$(date +%s)
scale_file=.cache/bench-scale.jsonl
if [ -n "${BENCH_SCALE_FROM:-}" ]; then
  # BENCHMARKS.md from a scale run already recorded (its JSON lines),
  # without running the 1,000-clone life again (about 90 minutes).
  scale_file=$BENCH_SCALE_FROM
elif ! CLONE_BENCH_SIZES=$sizes CLONE_BENCH_RUNS=$runs CLONE_BENCH_OUT=$PWD/.cache/bench-scale.jsonl TF_ACC=1 \
  go test ./internal/provider/ -run '^TestBenchClonePoolScale$' -count=1 -timeout 600m -v > .cache/bench-scale.log 2>&1; then
  grep -E '^\s*(--- FAIL|clone_pool_scale_test|.*Error)' .cache/bench-scale.log | tail -40 >&2
  echo "the pool scale benchmark failed; full log: .cache/bench-scale.log" >&2
  exit 1
fi
scale_minutes=$(( ($(date +%s) - scale_started + 59) / 60 ))
scale_note="this run took $scale_minutes minutes"
if [ -n "${BENCH_SCALE_FROM:-}" ]; then
  scale_note="recorded $(date -u -r "$scale_file" +%Y-%m-%d) and reused with BENCH_SCALE_FROM"
fi
scale=$(python3 scripts/bench_table.py "$scale_file")

{
  echo "# Benchmarks"
  echo
  echo "Reproduce with \`make bench\`, which runs:"
  echo
  echo '```sh'
  echo "$cmd"
  echo '```'
  echo
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(go version | cut -d' ' -f3-), moto $(moto_server --version 2>/dev/null || echo 5.2.1) as the emulator."
  echo "\`api-calls/op\` counts AWS API requests seen by a recording proxy (or a fake client) per operation;"
  echo "\`fleet-calls/batch\` counts rollout fleet operations per batch. Seconds against an emulator say"
  echo "little about AWS; the call counts carry over."
  echo
  echo "## Targets"
  echo
  echo "| what | target | measured by |"
  echo "|---|---|---|"
  echo "| clone_image Read, any history length | 1 AWS call (one tagged DescribeImages) | BenchmarkImageSetRead, TestAccCloneImage_readCalls |"
  echo "| pool health, T target groups + E classic ELBs | T + E calls, never per instance | BenchmarkCollect (4 + 2 → 6) |"
  echo "| rollout batch, first poll healthy | ≤ 6 fleet calls per batch | BenchmarkRun, TestRunCallsPerBatch |"
  echo "| rollout batch against the emulator, 1 TG + 1 classic ELB | ≤ 20 AWS calls per batch | TestAccClonePool_rolloutCalls |"
  echo "| healthy capacity during a rollout (min_healthy_percent 100) | never below desired | TestAccClonePool_rollout sampler |"
  echo
  echo "## Results"
  echo
  echo '```'
  echo "$out"
  echo '```'
  echo
  echo "## A pool's life at 10 to 1,000 clones"
  echo
  echo "Reproduce with \`make bench\` (BENCH_SIZES and BENCH_RUNS choose sizes and runs), which runs:"
  echo
  echo '```sh'
  echo "$scale_cmd"
  echo '```'
  echo
  echo "Each step is one terraform command, refresh included, as a user runs it, against the bundled"
  echo "emulator with its strict layer at time scale 0.2, the provider's calls counted by the recording"
  echo "proxy; median of $runs runs ($scale_note). The steps: create; plan (empty);"
  echo "scale-in to half (-50 %); scale-out back (+100 %); rollout onto a re-baked image with"
  echo "batch_size = 25 % (4 batches, min_healthy_percent 100, a sampler checking healthy capacity never"
  echo "falls below desired); destroy. raw-describe is the emulator's own time for the describe calls of a"
  echo "plan that grow with the pool (group, clones by id, health in both load balancers), without the"
  echo "provider. calls/s is the provider's average call rate over the step: AWS's default API rate"
  echo "limits are in the tens of calls per second per API (EC2 Describe* and Auto Scaling's alike)."
  echo
  echo "$scale"
  echo
  echo "## Rollout, measured through the recording proxy"
  echo
  echo "Reproduce with \`TF_ACC=1 go test ./internal/provider/ -run 'TestAccClonePool_(rolloutCalls|rollout)\$' -v\`."
  echo
  echo '```'
  echo "$rollout"
  echo '```'
} > BENCHMARKS.md
echo "wrote BENCHMARKS.md"
