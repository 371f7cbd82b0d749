#!/usr/bin/env bash
# Says exactly what is missing for `make test`, `make demo` (and demo-rollout)
# or `make demo-destroy`, and how to get it.
set -euo pipefail
missing=()

if ! command -v go >/dev/null; then
  missing+=("Go 1.26 or newer: https://go.dev/dl/")
fi
if [[ -z "${TF_ACC_TERRAFORM_PATH:-}" ]] && ! command -v terraform >/dev/null && ! command -v tofu >/dev/null; then
  missing+=("Terraform >= 1.11 or OpenTofu on PATH (or TF_ACC_TERRAFORM_PATH pointing at one)")
fi
if [[ "${1:-}" == demo* ]] && ! command -v python3 >/dev/null; then
  missing+=("Python 3.10+ (the demo reads its state with it, and the emulator is a Python program)")
fi
# Tearing the demo down needs no emulator install: it stops the one running, if any.
if [[ "${1:-}" != demo-destroy && -z "${CLONE_ACC_ENDPOINT:-}" && "${CLONE_ACC_REAL_AWS:-}" != 1 ]]; then
  if ! command -v moto_server >/dev/null && [[ ! -x .cache/venv/bin/moto_server ]]; then
    if command -v python3 >/dev/null && python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
      echo "moto_server not found: installing moto[server]==5.2.1 into .cache/venv" >&2
      if ! { python3 -m venv .cache/venv && .cache/venv/bin/pip install -q 'moto[server]==5.2.1'; }; then
        rm -rf .cache/venv
        missing+=("the local AWS emulator: pip install 'moto[server]==5.2.1' (PyPI was not reachable from here)")
      fi
    else
      missing+=("Python 3.10+ with the local AWS emulator: pip install 'moto[server]==5.2.1'")
    fi
  fi
fi
if [[ "${1:-}" == test ]]; then
  for tool in rsync sshd rrsync; do
    if ! command -v "$tool" >/dev/null && [[ ! -x "/usr/sbin/$tool" && ! -x "/usr/bin/$tool" ]]; then
      echo "note: $tool not found: the real rsync-over-sshd sync test will be skipped (Debian: apt-get install rsync openssh-server)" >&2
    fi
  done
  for tool in /usr/bin/cloud-init /usr/bin/shellcheck /usr/bin/systemd-analyze /usr/bin/aws; do
    if [[ ! -x "$tool" ]]; then
      echo "note: $tool not found: the clone boot test will be skipped (Debian: .ci/install-boot-deps.sh)" >&2
    fi
  done
fi

if ((${#missing[@]})); then
  echo "Missing prerequisites:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi
