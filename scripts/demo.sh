#!/usr/bin/env bash
# Runs the Clone Server pattern end to end on the local emulator:
#   scripts/demo.sh apply     start moto (or reuse the one running), seed the single-server system, build the
#                             provider, terraform apply examples/demo, print what was built;
#                             run again, it keeps the release a rollout put in place
#   scripts/demo.sh rollout   re-bake the image (a new release) and roll the pool onto it
#   scripts/demo.sh destroy   terraform destroy, then stop the emulator (the one recorded in the cache)
# Everything lives in .cache/ (ignored; CLONE_DEMO_CACHE names another directory):
# the provider binary, a dev_overrides CLI config, the emulator's pid file and
# log, the working directory with its state and the release in force
# (release.auto.tfvars). Nothing is written to $HOME.
# Colour (terraform's, and bold headings) only when stdout is a terminal and
# NO_COLOR is unset or empty (https://no-color.org); otherwise terraform runs
# with -no-color, as it colours even a pipe.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
cache=${CLONE_DEMO_CACHE:-$root/.cache}
work=$cache/demo
state=$work/terraform.tfstate
release_file=$work/release.auto.tfvars
tf=${TERRAFORM:-$(command -v terraform || command -v tofu || true)}
mkdir -p "$cache/bin"

export AWS_EC2_METADATA_DISABLED=true CHECKPOINT_DISABLE=1
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_REGION=${AWS_REGION:-us-east-1}
export TF_CLI_CONFIG_FILE=$cache/demo.tfrc
export TF_IN_AUTOMATION=1

if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
  color=1 no_color=''
else
  color='' no_color=-no-color
fi

step() {
  if [[ -n "$color" ]]; then
    printf '\n\033[1m==> %s\033[0m\n' "$*"
  else
    printf '\n==> %s\n' "$*"
  fi
}

say() { printf '%s\n' "$*" >&2; }

tools() {
  go build -o "$cache/bin/cloudemu" ./cmd/cloudemu
  go build -o "$cache/bin/seed" ./cmd/seed
}

# cloud_running tells whether the emulator a previous command started still
# answers (it holds everything in memory: when it is gone, so is the demo).
cloud_running() { [[ -f "$cache/emulator.pid" ]] && "$cache/bin/cloudemu" status -cache "$cache" >/dev/null 2>&1; }

# demo_applied tells whether the state holds a pool from an earlier apply.
demo_applied() { [[ -f "$state" ]] && grep -q '"type": "clone_pool"' "$state"; }

# current_release is the release the state's image was baked for.
current_release() {
  python3 - "$state" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])).get("resources", []):
    if r["type"] == "clone_image":
        print(((r["instances"][0]["attributes"].get("triggers")) or {}).get("release", ""))
PY
}

# start_cloud starts the emulator, or reuses the one running; cloudemu says
# which, with its address and pid.
start_cloud() {
  if cloud_running; then
    step "the local AWS emulator (moto)"
  else
    step "starting the local AWS emulator (moto) on 127.0.0.1"
  fi
  AWS_ENDPOINT_URL=$("$cache/bin/cloudemu" start -cache "$cache")
  export AWS_ENDPOINT_URL
}

stop_cloud() {
  step "stopping the emulator"
  "$cache/bin/cloudemu" stop -cache "$cache"
}

# keep_cloud_on_failure says, when the script fails after the emulator runs,
# that it keeps running and how to go on.
keep_cloud_on_failure() {
  failed_target=$1
  trap 'rc=$?; if ((rc)); then say "The emulator keeps running with what was built so far: fix the error above and run \`make $failed_target\` again, or \`make demo-destroy\` to tear it down."; fi' EXIT
}

seed_cmd() { "$cache/bin/seed" -endpoint "$AWS_ENDPOINT_URL" -region "$AWS_REGION" -name clone-demo "$@"; }

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

# seed creates the single-server system, or finds the one an earlier run
# seeded (cmd/seed reuses it by name).
seed() {
  if demo_applied; then
    step "the existing single-server system the first run seeded (reused): VPC, master web server, ALB, classic ELB"
  else
    step "seeding the existing single-server system: VPC, master web server, ALB, classic ELB"
  fi
  mkdir -p "$work"
  seed_cmd -tfvars "$work/seed.auto.tfvars" > "$work/seed.json"
  cat "$work/seed.json"
}

sync_config() {
  mkdir -p "$work"
  cp "$root"/examples/demo/*.tf "$work/"
}

# set_release records the release in force, so a later `make demo` or a
# plain `terraform plan` in .cache/demo keeps it.
set_release() { printf 'release = "%s"\n' "$1" > "$release_file"; }

# tf runs a terraform command (apply, plan, destroy) in the working directory,
# with -no-color unless colour is on.
tf() {
  local command=$1
  shift
  "$tf" -chdir="$work" "$command" ${no_color:+"$no_color"} "$@"
}

# progress keeps the apply's own lines and the provider's INFO progress
# messages, without log fields and colours.
progress() {
  sed -E 's/\x1b\[[0-9;]*m//g' |
    grep -E '^[a-z_.]+: (Modif|Creat)|Apply complete|Error|clones healthy|batch [0-9]|rolling|retired' |
    sed -E 's/^.*provider\.terraform-provider-clone: //; s/: (@[a-z]+|[a-z_]+)=.*$//' | uniq
}

# show prints what was built once, read back from the cloud; the apply
# printed the Terraform outputs already.
show() {
  step "the Clone Server pattern as built (read back from the cloud)"
  seed_cmd -summary clone-demo-web -sync-policy clone-demo-web
  step "every load balancer target and its health"
  seed_cmd -health
  step "what the strict test cloud saw (AWS's rules: hooks, draining, health warm-up)"
  "$cache/bin/cloudemu" strict -cache "$cache"
}

case "${1:-apply}" in
apply)
  tools
  if demo_applied && ! cloud_running; then
    say "The emulator that held the last demo is gone (it keeps everything in memory): starting a fresh demo."
    rm -rf "$work"
  fi
  if demo_applied; then
    current=$(current_release)
    release=${RELEASE:-${current:-v1}}
    if [[ "$release" == "${current:-v1}" ]]; then
      step "the demo is already applied (release $release): applying it again with that release, which changes nothing"
    else
      step "the demo is already applied (release ${current:-v1}): RELEASE=$release re-bakes the image and rolls the pool onto it"
    fi
    echo "make demo-rollout rolls out a new release; make demo-destroy tears everything down."
  else
    release=${RELEASE:-v1}
  fi
  start_cloud
  keep_cloud_on_failure demo
  build_provider
  seed
  sync_config
  set_release "${release:-v1}"
  step "terraform apply (release ${release:-v1})"
  tf apply -auto-approve -input=false
  show
  step "a second plan must show no changes"
  plan=0
  tf plan -input=false -detailed-exitcode || plan=$?
  case $plan in
  0) echo "No changes: the demo converged." ;;
  2)
    say "The second plan shows changes (above): the demo did not converge."
    exit 1
    ;;
  *) exit "$plan" ;;
  esac
  ;;
rollout)
  tools
  if ! demo_applied; then
    say "Nothing to roll out yet: run \`make demo\` first (it starts the emulator and applies release v1)."
    exit 1
  fi
  if ! cloud_running; then
    say "The emulator that held the demo is not running (it keeps everything in memory), so there is nothing to roll out."
    say "Run \`make demo\` first: it starts a fresh demo."
    exit 1
  fi
  from=$(current_release)
  release=${RELEASE:-v2-$(date +%H%M%S)}
  if [[ "$release" == "${from:-v1}" ]]; then
    say "Release $release is already in place: nothing to roll out (RELEASE=… names another)."
    exit 1
  fi
  start_cloud
  keep_cloud_on_failure demo-rollout
  build_provider
  sync_config
  step "before: every load balancer target and its image"
  seed_cmd -health
  step "re-baking the image (release ${from:-v1} → $release) and rolling the pool onto it, one clone at a time, surge first"
  set_release "$release"
  TF_LOG_PROVIDER=INFO tf apply -auto-approve -input=false 2>&1 | progress
  show
  ;;
destroy)
  tools
  if cloud_running; then
    if demo_applied; then
      start_cloud # reuses the running one, for its endpoint
      build_provider
      sync_config
      step "terraform destroy"
      tf destroy -auto-approve -input=false || say "terraform destroy failed (above); the emulator is stopped anyway, which discards everything in it."
    else
      say "No demo is applied in the running emulator: only stopping it."
    fi
    stop_cloud
  elif demo_applied; then
    say "The emulator that held the demo is gone, and everything in it: removing the demo's stale state."
  else
    say "Nothing to destroy: no demo is running (\`make demo\` starts one)."
  fi
  rm -rf "$work"
  ;;
*)
  echo "usage: $0 apply|rollout|destroy" >&2
  exit 2
  ;;
esac
