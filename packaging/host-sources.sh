#!/bin/sh
# Print the package sources this machine is configured with, so that no address has to be
# written into packaging/: a machine behind a mirror builds unchanged.
#
#   packaging/host-sources.sh pip-index            index URL of pip's configuration, or nothing
#   packaging/host-sources.sh pip-extra-index      its extra index URLs (space-separated), or nothing
#   packaging/host-sources.sh debian-mirror [SUITE [ARCH]]
#                                                  the first apt source serving SUITE (default
#                                                  bookworm) for ARCH (default: any)
#
# pip: $PIP_INDEX_URL / $PIP_EXTRA_INDEX_URL, else `pip config list`'s index-url
# (/etc/pip.conf, ~/.config/pip/pip.conf, $PIP_CONFIG_FILE; PIP selects the pip, default
# .venv/bin/pip, else pip3). `file:` URLs are left out: they name directories of this machine
# that a build container cannot see. Printing nothing means "pip's own default index".
# apt: deb822 stanzas in /etc/apt/sources.list.d/*.sources (not `Enabled: no`), then
# one-line `deb` entries in /etc/apt/sources.list and /etc/apt/sources.list.d/*.list
# (INJECTOR_APT_ETC replaces /etc/apt, for tests).
set -eu
APT_ETC=${INJECTOR_APT_ETC:-/etc/apt}

pip_cmd() {
    if [ -n "${PIP:-}" ]; then echo "$PIP"
    elif [ -x .venv/bin/pip ]; then echo .venv/bin/pip
    elif command -v pip3 >/dev/null 2>&1; then echo pip3
    fi
}

pip_setting() { # ENV_VALUE KEY
    value=$1
    if [ -z "$value" ] && pip=$(pip_cmd) && [ -n "$pip" ]; then
        # `pip config list` prints files and variables in pip's order of precedence
        # (the last one wins): global.KEY='...', install.KEY='...', :env:.KEY='...'.
        value=$("$pip" config list 2>/dev/null |
            sed -n "s/^\(global\|install\|:env:\)\.$2='\(.*\)'\$/\2/p" | tail -n 1)
    fi
    # One URL per word; drop file: URLs (local directories).
    for url in $value; do
        case $url in file:*) ;; *) printf '%s\n' "$url" ;; esac
    done | paste -sd ' ' -
}

debian_mirror() { # SUITE ARCH
    for f in "$APT_ETC"/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$1" -v arch="$2" '
            function done_stanza() {
                if (uris != "" && ok && enabled && (arch == "" || archok)) { print uris; exit }
                uris = ""; ok = 0; enabled = 1; archok = 1
            }
            BEGIN { enabled = 1; archok = 1 }
            /^[[:space:]]*$/ { done_stanza(); next }
            /^URIs:/ { uris = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
            /^Enabled:[[:space:]]*no/ { enabled = 0 }
            /^Architectures:/ { archok = 0; for (i = 2; i <= NF; i++) if ($i == arch) archok = 1 }
            END { done_stanza() }
        ' "$f"
    done | head -n 1
    for f in "$APT_ETC"/sources.list "$APT_ETC"/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # deb [options] URI SUITE COMPONENTS...: skip the bracketed options.
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
            awk -v suite="$1" '$1 == "deb" && $3 == suite { print $2; exit }'
    done | head -n 1
}

case ${1:-} in
    pip-index) pip_setting "${PIP_INDEX_URL:-}" index-url | awk '{ print $1 }' ;;
    pip-extra-index) pip_setting "${PIP_EXTRA_INDEX_URL:-}" extra-index-url ;;
    debian-mirror) debian_mirror "${2:-bookworm}" "${3:-}" | head -n 1 ;;
    *) echo "usage: $0 pip-index|pip-extra-index|debian-mirror [SUITE [ARCH]]" >&2; exit 2 ;;
esac
