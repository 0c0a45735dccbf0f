#!/bin/sh
# Install injector from a CI artifact: pick the file for this machine's architecture
# (`uname -m`: x86_64 -> injector-linux-amd64, aarch64 -> injector-linux-arm64), download
# it, verify the sha256, refuse on mismatch.
#
#   sh install.sh [--base-url URL] [--dest PATH]
#   curl -fsSL URL/install.sh | sh -s -- --base-url URL
#
# --base-url URL  where `injector-linux-ARCH` lies (default $INJECTOR_BASE_URL, else the
#                 URL this script was rendered with by `make dist`)
# --dest PATH     where to install (default $INJECTOR_DEST, else /usr/local/bin/injector)
# The expected sha256 of each architecture is written into this file by `make dist`
# (dist/install.sh), so a tampered download is refused even when the server is not
# trusted. An unrendered copy (packaging/install.sh) fetches URL/injector-linux-ARCH.sha256
# instead, or takes $INJECTOR_SHA256. $INJECTOR_ARCH (amd64 or arm64) overrides uname -m.
# Needs curl or wget (INJECTOR_DOWNLOADER=curl|wget to choose) and sha256sum, shasum or
# openssl. Exit codes: 0 installed, 1 failure (incl. an architecture without a binary),
# 2 bad usage, 3 checksum mismatch.
set -eu

EXPECTED_SHA256_AMD64='@SHA256_AMD64@'
EXPECTED_SHA256_ARM64='@SHA256_ARM64@'
DEFAULT_BASE_URL='@BASE_URL@'
VERSION='@VERSION@'

base_url=${INJECTOR_BASE_URL:-}
dest=${INJECTOR_DEST:-/usr/local/bin/injector}
expected=${INJECTOR_SHA256:-}

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() { say "error: $2"; exit "$1"; }

while [ $# -gt 0 ]; do
    case $1 in
        --base-url) [ $# -ge 2 ] || die 2 "--base-url needs a value"; base_url=$2; shift 2 ;;
        --base-url=*) base_url=${1#*=}; shift ;;
        --dest) [ $# -ge 2 ] || die 2 "--dest needs a value"; dest=$2; shift 2 ;;
        --dest=*) dest=${1#*=}; shift ;;
        -h|--help) sed -n '2,21p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die 2 "unknown argument: $1" ;;
    esac
done

machine=${INJECTOR_ARCH:-$(uname -m)}
case $machine in
    x86_64 | amd64) arch=amd64 EXPECTED_SHA256=$EXPECTED_SHA256_AMD64 ;;
    aarch64 | arm64) arch=arm64 EXPECTED_SHA256=$EXPECTED_SHA256_ARM64 ;;
    *) die 1 "no injector binary for this architecture ($machine)" ;;
esac
[ "$EXPECTED_SHA256" != none ] || die 1 "this release has no binary for $arch"
case $DEFAULT_BASE_URL in @*) DEFAULT_BASE_URL= ;; esac
case $EXPECTED_SHA256 in @*) EXPECTED_SHA256= ;; esac
file=injector-linux-$arch
base_url=${base_url:-$DEFAULT_BASE_URL}
[ -n "$base_url" ] || die 2 "no base URL: pass --base-url URL or set INJECTOR_BASE_URL"
base_url=${base_url%/}

download() { # URL FILE
    case ${INJECTOR_DOWNLOADER:-auto} in
        curl) curl -fsSL --retry 3 -o "$2" "$1" ;;
        wget) wget -q -O "$2" "$1" ;;
        auto)
            if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o "$2" "$1"
            elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
            else die 1 "neither curl nor wget is installed"; fi ;;
        *) die 2 "INJECTOR_DOWNLOADER must be curl or wget" ;;
    esac
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$1" | cut -d' ' -f1
    elif command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 "$1" | sed 's/.*= *//'
    else die 1 "no sha256 tool (sha256sum, shasum or openssl)"; fi
}

dest_dir=$(dirname "$dest")
mkdir -p "$dest_dir"
tmp=$(mktemp "$dest_dir/.injector.download.XXXXXX") || die 1 "cannot write in $dest_dir"
trap 'rm -f "$tmp" "$tmp.sha256"' EXIT
trap 'exit 1' HUP INT TERM

if [ -z "$expected" ]; then
    expected=$EXPECTED_SHA256
fi
if [ -z "$expected" ]; then
    download "$base_url/$file.sha256" "$tmp.sha256" || die 1 "cannot download $base_url/$file.sha256"
    expected=$(cut -d' ' -f1 <"$tmp.sha256")
fi
case $expected in
    *[!0-9a-f]*|'') die 1 "the expected sha256 is not a sha256: '$expected'" ;;
esac
[ ${#expected} -eq 64 ] || die 1 "the expected sha256 is not a sha256: '$expected'"

say "downloading $base_url/$file${VERSION:+ ($VERSION)}"
download "$base_url/$file" "$tmp" || die 1 "cannot download $base_url/$file"
actual=$(sha256_of "$tmp")
if [ "$actual" != "$expected" ]; then
    die 3 "sha256 mismatch for $base_url/$file: expected $expected, got $actual; not installed"
fi
chmod 0755 "$tmp"
mv -f "$tmp" "$dest"
say "installed $dest (sha256 $actual)"
