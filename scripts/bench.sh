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
rollout=$(TF_ACC=1 go test ./internal/provider/ -run 'TestAccClonePool_(rolloutCalls|rollout)$' -count=1 -v 2>&1 |
  sed -n -e '/AWS calls per rollout batch/,/whole rollout/p' -e '/sampler:/p' | sed -E 's/^ *(clone_pool_rollout_test.go:[0-9]+: )?//')

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
  echo "## Rollout, measured through the recording proxy"
  echo
  echo "Reproduce with \`TF_ACC=1 go test ./internal/provider/ -run 'TestAccClonePool_(rolloutCalls|rollout)\$' -v\`."
  echo
  echo '```'
  echo "$rollout"
  echo '```'
} > BENCHMARKS.md
echo "wrote BENCHMARKS.md"
