#!/bin/sh
# Build the test payload: a gzipped newc cpio holding /init, a static
# busybox and the static probe program. Usage: build.sh INIT PROBE OUTPUT
# (PROBE: the built hvm-probe). Needs busybox-static, cpio, gzip.
set -eu
init=$1 probe=$2 out=$3
busybox=${HVM_BUSYBOX:-/bin/busybox}
if ! file_is_static=$(LC_ALL=C ldd "$busybox" 2>&1); then :; fi
case $file_is_static in
*"not a dynamic executable"*) ;;
*) echo "build.sh: $busybox is not a static busybox (install busybox-static)" >&2
   exit 1 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/dev" "$tmp/root/proc" "$tmp/root/sys"
cp "$busybox" "$tmp/root/bin/busybox"
cp "$probe" "$tmp/root/bin/hvm-probe"
cp "$init" "$tmp/root/init"
chmod 0755 "$tmp/root/init" "$tmp/root/bin/busybox" "$tmp/root/bin/hvm-probe"
# Fixed times: the same inputs give the same payload, byte for byte.
find "$tmp/root" -exec touch -h -d @0 {} +
(cd "$tmp/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
	gzip -9n > "$tmp/out"
mv "$tmp/out" "$out"
