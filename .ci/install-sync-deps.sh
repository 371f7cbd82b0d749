#!/bin/sh
# Installs what the syncagent end-to-end test needs (rsync with rrsync,
# openssh-server). Idempotent: installs nothing when everything is present.
set -eu

missing=
command -v rsync >/dev/null 2>&1 || missing="$missing rsync"
command -v rrsync >/dev/null 2>&1 || [ -x /usr/bin/rrsync ] || missing="$missing rsync"
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
command -v ssh >/dev/null 2>&1 || missing="$missing openssh-client"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
[ -z "$missing" ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
