#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info` (and that docker-compose exists).
#
# Idempotent. When the engine already answers, only missing docker-compose is installed.
# Otherwise, as root: apt-get install docker.io (and docker-compose, Debian's 1.29 package)
# when missing, start dockerd in the background (systemd when it runs, else dockerd itself,
# logging to $DOCKERD_LOG), and wait up to $DOCKER_WAIT_SECONDS for `docker info`.
#
# Environment:
#   DOCKERD_LOG           dockerd's log when this script starts it (default /var/log/dockerd.log)
#   DOCKER_WAIT_SECONDS   how long to wait for the engine (default 60)
set -euo pipefail

log="${DOCKERD_LOG:-/var/log/dockerd.log}"
wait_seconds="${DOCKER_WAIT_SECONDS:-60}"

say() { echo "ensure-docker: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

engine_ok() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

apt_install() {
    # apt-get install "$@", refreshing the package lists once if a package is unknown.
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "$@" >&2; then
        apt-get update -q >&2
        apt-get install -y -q --no-install-recommends "$@" >&2
    fi
}

ensure_compose() {
    command -v docker-compose >/dev/null 2>&1 && return 0
    if is_root; then
        say "installing docker-compose"
        apt_install docker-compose
    else
        say "warning: docker-compose is missing and we are not root to install it"
    fi
}

if engine_ok; then
    ensure_compose
    exit 0
fi

is_root || die "\`docker info\` fails and we are not root: start the Docker engine, or rerun as root"

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    apt_install "${missing[@]}"
fi
command -v dockerd >/dev/null 2>&1 || die "dockerd is still missing after installing docker.io"

# Installing docker.io may have started the service already (systemd machines).
if ! engine_ok; then
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        say "starting docker through systemd"
        systemctl start docker >&2 || say "systemctl start docker failed; starting dockerd directly"
    fi
fi

# A dockerd that is already starting has a live pid in /var/run/docker.pid: wait for it.
# A stale pid file (from a killed dockerd) would stop a new one from starting: remove it.
running=""
if [ -f /var/run/docker.pid ]; then
    if kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        running=yes
    else
        rm -f /var/run/docker.pid
    fi
fi
if ! engine_ok && [ -z "$running" ]; then
    say "starting dockerd in the background (log: $log)"
    mkdir -p "$(dirname "$log")"
    # setsid: dockerd must outlive this script and the shell that runs it.
    setsid dockerd >>"$log" 2>&1 </dev/null &
fi

deadline=$(( $(date +%s) + wait_seconds ))
until engine_ok; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        say "the last lines of $log:"
        tail -n 20 "$log" >&2 2>/dev/null || true
        die "the Docker engine did not answer \`docker info\` within ${wait_seconds}s"
    fi
    sleep 1
done
say "the Docker engine is up ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
