#!/bin/sh
# Let this machine run binaries of another architecture through Debian's qemu-user-static
# and binfmt_misc, for the emulated arm64 build and tests.
#
#   packaging/qemu-binfmt.sh ARCH status          0 if ARCH binaries run here (natively or emulated)
#   packaging/qemu-binfmt.sh ARCH run CMD [ARG..] register if needed, run CMD, then remove
#                                                  whatever this call added; CMD's exit code
#                                                  (CMD sees INJECTOR_BINFMT_RUN=<cpu>)
#
# ARCH is a Debian architecture name (arm64, amd64, ...). The entry comes from
# /usr/lib/binfmt.d/qemu-<cpu>.conf (package qemu-user-static); Debian's flags there are
# OPF: F opens the interpreter once, at registration, so containers whose root has no qemu
# can use it; P keeps argv[0]. This script writes that line to
# /proc/sys/fs/binfmt_misc/register itself (update-binfmts is not installed on our
# machines), mounting binfmt_misc first if it is not mounted. An entry that was already
# there is left alone, and so is a mount that was already there. Needs root to register.
# Concurrent (and nested) `run`s share one registration: a count in /run/injector-binfmt/CPU/
# (INJECTOR_BINFMT_STATE) makes the last one out remove it.
set -eu

BINFMT=/proc/sys/fs/binfmt_misc

log() { printf 'qemu-binfmt: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -ge 2 ] || die "usage: $0 ARCH status|run CMD..."
ARCH=$1
ACTION=$2
shift 2

case $ARCH in
    arm64 | aarch64) CPU=aarch64 MACHINE=aarch64 ;;
    amd64 | x86_64) CPU=x86_64 MACHINE=x86_64 ;;
    *) die "unknown architecture $ARCH (arm64 or amd64)" ;;
esac
CONF=/usr/lib/binfmt.d/qemu-$CPU.conf
ENTRY=$BINFMT/qemu-$CPU
STATE=${INJECTOR_BINFMT_STATE:-/run/injector-binfmt/$CPU}

native() { [ "$(uname -m)" = "$MACHINE" ]; }
registered() { [ -f "$ENTRY" ] && head -n 1 "$ENTRY" | grep -qx enabled; }

mount_binfmt() {
    [ -e "$BINFMT/register" ] && return 0
    mount -t binfmt_misc binfmt_misc "$BINFMT" || die "cannot mount binfmt_misc (root needed)"
    echo mounted >"$STATE/mount"
}

register() {
    [ -f "$CONF" ] || die "$CONF missing (apt-get install qemu-user-static)"
    interp=$(sed -n 's/^:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:\([^:]*\):.*/\1/p' "$CONF")
    [ -x "$interp" ] || die "$interp missing (apt-get install qemu-user-static)"
    mount_binfmt
    if registered; then
        grep -q '^flags:.*F' "$ENTRY" || log "warning: qemu-$CPU is registered without the F flag; containers cannot use it"
        return 0
    fi
    head -n 1 "$CONF" >"$BINFMT/register" || die "cannot register qemu-$CPU (root needed)"
    echo added >"$STATE/entry"
    log "registered qemu-$CPU from $CONF"
}

unregister() {
    if [ -f "$STATE/entry" ]; then
        [ -f "$ENTRY" ] && echo -1 >"$ENTRY"
        rm -f "$STATE/entry"
        log "removed qemu-$CPU again"
    fi
    if [ -f "$STATE/mount" ]; then
        umount "$BINFMT" 2>/dev/null || true
        rm -f "$STATE/mount"
    fi
}

# The count of `run`s in progress, under an flock (both 0 when no lock tool exists).
count() { # +1 | -1; prints the new count
    n=$(($(cat "$STATE/users" 2>/dev/null || echo 0) + $1))
    [ "$n" -lt 0 ] && n=0
    echo "$n" >"$STATE/users"
    echo "$n"
}

locked() { # CMD...: run CMD under $STATE/lock
    if command -v flock >/dev/null 2>&1; then
        flock "$STATE/lock" "$@"
    else
        "$@"
    fi
}

enter() { [ "$(count 1)" -gt 1 ] || register; }
leave() { [ "$(count -1)" -gt 0 ] || unregister; }

case $ACTION in
    status)
        native && exit 0
        registered
        ;;
    run)
        [ $# -ge 1 ] || die "run needs a command"
        if native; then exec "$@"; fi
        mkdir -p "$STATE"
        locked "$0" "$ARCH" _enter
        export INJECTOR_BINFMT_RUN="$CPU"  # scripts below know they are inside a run
        trap 'locked "$0" "$ARCH" _leave' EXIT
        trap 'exit 130' INT TERM HUP
        "$@"
        ;;
    _enter) enter ;;
    _leave) leave ;;
    *) die "unknown action $ACTION (status or run)" ;;
esac
