#!/bin/sh
# Compare two builds of dist/injector; on a difference, say where (for make repro-check).
set -eu
a=$1 b=$2
sa=$(sha256sum "$a" | cut -d' ' -f1)
sb=$(sha256sum "$b" | cut -d' ' -f1)
echo "repro-check: $sa  $a"
echo "repro-check: $sb  $b"
if [ "$sa" = "$sb" ]; then
    echo "repro-check: OK, byte-identical ($(wc -c <"$a") bytes)"
    exit 0
fi
echo "repro-check: FAIL, the builds differ" >&2
cmp -l "$a" "$b" | head -n 20 >&2 || true
echo "repro-check: $(cmp -l "$a" "$b" | wc -l) differing bytes" >&2
exit 1
