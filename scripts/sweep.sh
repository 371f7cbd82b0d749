#!/usr/bin/env bash
# Runs the sweepers (internal/provider/sweep_test.go): they delete what
# interrupted acceptance runs left behind, and only objects named tf-acc-test-*.
#   make sweep                              the local emulator: the one `make demo` runs if it
#                                           runs, otherwise one started here and stopped after
#   CLONE_ACC_ENDPOINT=http://… make sweep  another AWS-compatible endpoint
#   CLONE_ACC_REAL_AWS=1 make sweep         real AWS, with your own credentials
# SWEEP names the region (default AWS_REGION, else us-east-1); SWEEPARGS is
# passed to go test (e.g. -sweep-run=clone_image).
set -euo pipefail
cd "$(dirname "$0")/.."
cache=$PWD/.cache
region=${SWEEP:-${AWS_REGION:-us-east-1}}
endpoint=${CLONE_ACC_ENDPOINT:-}
export AWS_EC2_METADATA_DISABLED=true CHECKPOINT_DISABLE=1

if [[ "${CLONE_ACC_REAL_AWS:-}" == 1 ]]; then
  echo "sweeping real AWS in $region: only objects named tf-acc-test-*"
elif [[ -z "$endpoint" ]]; then
  if endpoint=$(go run ./cmd/cloudemu status -cache "$cache" 2>/dev/null); then
    echo "sweeping the running emulator at $endpoint"
  else
    endpoint=$(go run ./cmd/cloudemu start -cache "$cache")
    trap 'go run ./cmd/cloudemu stop -cache "$cache"' EXIT
    echo "sweeping a fresh emulator at $endpoint (stopped afterwards)"
  fi
fi
if [[ -n "$endpoint" ]]; then
  # An emulator: dummy credentials, and every service at that endpoint.
  export AWS_ENDPOINT_URL=$endpoint AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  unset AWS_SESSION_TOKEN AWS_PROFILE
  for v in $(compgen -e); do
    if [[ $v == AWS_ENDPOINT_URL_* ]]; then unset "$v"; fi
  done
fi

# shellcheck disable=SC2086 # SWEEPARGS is a list of flags
go test ./internal/provider -v -count=1 -timeout "${SWEEP_TIMEOUT:-30m}" -sweep="$region" ${SWEEPARGS:-}
