#!/bin/sh
# Installs, from Debian's packages, what the clone boot test
# (TestAccClonePool_boot, internal/boottest) needs: cloud-init (its stages
# and schema validator), shellcheck, systemd (systemctl, systemd-analyze),
# the AWS CLI, rsync with rrsync, openssh-server and -client, iproute2 (ip
# netns), curl, python3 and util-linux (unshare, nsenter, flock). The test
# looks for each tool where Debian installs it, so a copy elsewhere on PATH
# does not count. Runs apt-get update once, and only when something is
# missing. Installing cloud-init enables its boot services: meant for
# throwaway CI machines.
set -eu

missing=
need() { # need PATH PACKAGE
	[ -e "$1" ] || case " $missing " in *" $2 "*) ;; *) missing="$missing $2" ;; esac
}
need /usr/bin/cloud-init cloud-init
need /usr/bin/shellcheck shellcheck
need /usr/bin/systemd-analyze systemd
need /usr/bin/systemctl systemd
need /usr/bin/aws awscli
need /usr/bin/rsync rsync
need /usr/bin/rrsync rsync
need /usr/sbin/sshd openssh-server
need /usr/bin/ssh openssh-client
need /usr/bin/ssh-keygen openssh-client
need /usr/sbin/ip iproute2
need /usr/bin/curl curl
need /usr/bin/python3 python3
need /usr/bin/unshare util-linux
need /usr/bin/nsenter util-linux
need /usr/bin/flock util-linux
[ -z "$missing" ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
echo "installing for the boot test:$missing" >&2
$sudo apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
