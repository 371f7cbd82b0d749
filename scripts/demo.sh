#!/usr/bin/env bash
# Runs the Clone Server pattern end to end on the local emulator:
#   scripts/demo.sh apply     start moto, seed the single-server system, build the
#                             provider, terraform apply examples/demo, print what was built
#   scripts/demo.sh rollout   re-bake the image (release v2) and roll the pool onto it
#   scripts/demo.sh destroy   terraform destroy, then stop the emulator this demo started
# Everything lives in .cache/ (ignored): the provider binary, a dev_overrides CLI
# config, the working directory with its state. Nothing is written to $HOME.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
cache=$root/.cache
work=$cache/demo
tf=${TERRAFORM:-$(command -v terraform || command -v tofu)}
mkdir -p "$cache/bin" "$work"

export AWS_EC2_METADATA_DISABLED=true CHECKPOINT_DISABLE=1
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_REGION=${AWS_REGION:-us-east-1}
export TF_CLI_CONFIG_FILE=$cache/demo.tfrc
export TF_IN_AUTOMATION=1

step() { printf '\n==> %s\n' "$*"; }

start_cloud() {
  step "starting the local AWS emulator (moto) on 127.0.0.1"
  endpoint=$(go run ./cmd/cloudemu start -cache "$cache")
  export AWS_ENDPOINT_URL=$endpoint
  echo "emulator: $endpoint"
}

build_provider() {
  step "building the provider"
  go build -o "$cache/bin/terraform-provider-clone" .
  cat > "$TF_CLI_CONFIG_FILE" <<CFG
provider_installation {
  dev_overrides {
    "cloneserver/clone" = "$cache/bin"
  }
  direct {}
}
CFG
}

seed() {
  step "seeding the existing single-server system: VPC, master web server, ALB, classic ELB"
  go run ./cmd/seed -endpoint "$AWS_ENDPOINT_URL" -region "$AWS_REGION" -name clone-demo -tfvars "$work/seed.auto.tfvars" > "$work/seed.json"
  cat "$work/seed.json"
}

sync_config() {
  cp "$root"/examples/demo/*.tf "$work/"
}

tf() { "$tf" -chdir="$work" "$@"; }

# progress keeps the apply's own lines and the provider's INFO progress
# messages, without log fields and colours.
progress() {
  sed -E 's/\x1b\[[0-9;]*m//g' |
    grep -E '^[a-z_.]+: (Modif|Creat)|Apply complete|Error|clones healthy|batch [0-9]|rolling|retired' |
    sed -E 's/^.*provider\.terraform-provider-clone: //; s/: (@[a-z]+|[a-z_]+)=.*$//' | uniq
}

show() {
  step "what was built"
  tf output
  step "every load balancer target and its health"
  go run ./cmd/seed -endpoint "$AWS_ENDPOINT_URL" -region "$AWS_REGION" -name clone-demo -health
  step "what the strict test cloud saw (AWS's rules: hooks, draining, health warm-up)"
  go run ./cmd/cloudemu strict -cache "$cache"
}

case "${1:-apply}" in
apply)
  start_cloud
  build_provider
  seed
  sync_config
  step "terraform apply"
  tf apply -auto-approve -input=false
  show
  step "a second plan must show no changes"
  tf plan -input=false -detailed-exitcode && echo "No changes: the demo converged."
  ;;
rollout)
  start_cloud
  build_provider
  sync_config
  step "before: every load balancer target and its image"
  go run ./cmd/seed -endpoint "$AWS_ENDPOINT_URL" -region "$AWS_REGION" -name clone-demo -health
  step "re-baking the image (a new release) and rolling the pool onto it, one clone at a time, surge first"
  TF_LOG_PROVIDER=INFO tf apply -auto-approve -input=false -var "release=${RELEASE:-v2-$(date +%H%M%S)}" 2>&1 |
    progress
  show
  ;;
destroy)
  if [[ -f "$cache/emulator.pid" ]]; then
    start_cloud
    build_provider
    sync_config
    step "terraform destroy"
    tf destroy -auto-approve -input=false || true
    step "stopping the emulator"
    go run ./cmd/cloudemu stop -cache "$cache"
  fi
  rm -rf "$work"
  ;;
*)
  echo "usage: $0 apply|rollout|destroy" >&2
  exit 2
  ;;
esac
