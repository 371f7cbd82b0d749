#!/usr/bin/env bash
# Prints the path of an OpenTofu binary: `tofu` from PATH if there is one,
# else .cache/bin/tofu, built once from the Go module proxy (about 10 minutes
# of CPU on 2 cores). The build is a throwaway module in .cache/tofu-build that
# requires OpenTofu and repeats the replace directive of OpenTofu's own go.mod
# (Go ignores replace directives of dependencies, and OpenTofu builds against
# its fork of hcl/v2).
#   scripts/tofu.sh          path of tofu, building it if needed
#   scripts/tofu.sh build    build .cache/bin/tofu even when tofu is on PATH
set -euo pipefail
cd "$(dirname "$0")/.."

TOFU_VERSION=${TOFU_VERSION:-v1.10.6}
# From github.com/opentofu/opentofu's go.mod at v1.10.6.
HCL_REPLACE='github.com/hashicorp/hcl/v2 v2.20.1 => github.com/opentofu/hcl/v2 v2.20.2-0.20250121132637-504036cd70e7'

cache=$PWD/.cache
bin=$cache/bin/tofu

if [[ "${1:-}" != build ]] && command -v tofu >/dev/null; then
  command -v tofu
  exit 0
fi
if [[ -x "$bin" ]] && "$bin" version 2>/dev/null | grep -q "^OpenTofu ${TOFU_VERSION}\$"; then
  echo "$bin"
  exit 0
fi

echo "building OpenTofu ${TOFU_VERSION} into .cache/bin from the Go module proxy (about 10 minutes)" >&2
dir=$cache/tofu-build
rm -rf "$dir"
mkdir -p "$dir" "$cache/bin"
cat > "$dir/go.mod" <<EOF
module tofubuild

go 1.24.6

replace $HCL_REPLACE
EOF
(
  cd "$dir"
  go get "github.com/opentofu/opentofu/cmd/tofu@${TOFU_VERSION}" >&2
  # As OpenTofu's release build: without version.dev=no it reports v1.10.6-dev.
  nice -n 19 go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
    -o "$bin.tmp" github.com/opentofu/opentofu/cmd/tofu >&2
)
mv "$bin.tmp" "$bin"
"$bin" version >&2
echo "$bin"
