#!/bin/sh
# Build the real kernels the interface tests boot, from Debian's
# linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz): tinyconfig plus
# images/configs/hvmatrix.config ("good"), and the same kernel with
# break-vmware.patch applied ("vmware-broken": it panics in VMware platform
# setup, before its console is up, and nowhere else). Cached by inputs;
# the second one is an incremental build of the first (seconds).
# Usage: build-test-kernels.sh CACHEDIR; prints the two bzImage paths.
set -eu
cache=${1:?usage: build-test-kernels.sh CACHEDIR}
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/../configs/hvmatrix.config
patch=$here/break-vmware.patch
tarball=/usr/src/linux-source-6.1.tar.xz
key=$(cat "$0" "$fragment" "$patch" | sha256sum | cut -c1-16)
dest=$cache/test-kernels-$key
if [ -f "$dest/complete" ]; then
	echo "$dest/good.bzImage"
	echo "$dest/vmware-broken.bzImage"
	exit 0
fi
[ -r "$tarball" ] || { echo "build-test-kernels.sh: $tarball missing (apt-get install linux-source-6.1)" >&2; exit 1; }
src=$cache/linux-source-6.1
if [ ! -f "$src/.complete" ]; then
	echo "build-test-kernels.sh: unpacking $tarball" >&2
	rm -rf "$src"
	mkdir -p "$cache"
	tar -xf "$tarball" -C "$cache"
	touch "$src/.complete"
fi
out=$cache/test-kernels-out
mkdir -p "$out" "$dest.tmp"
export CCACHE_DIR="$cache/ccache"
mk() { make -s -C "$src" O="$out" CC="ccache gcc" "$@"; }
# Never leave the tree patched, whatever happens below.
trap '(cd "$src" && patch -R -p1 -s --dry-run < "$patch" >/dev/null 2>&1 &&
	patch -R -p1 -s < "$patch") || true' EXIT
echo "build-test-kernels.sh: tinyconfig + hvmatrix.config (a few minutes cold)" >&2
mk tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
	"$fragment" >/dev/null
mk olddefconfig >/dev/null
mk -j"$(nproc)" bzImage >&2
cp "$out/arch/x86/boot/bzImage" "$dest.tmp/good.bzImage"
echo "build-test-kernels.sh: the VMware-broken variant (incremental)" >&2
(cd "$src" && patch -p1 -s < "$patch")
mk -j"$(nproc)" bzImage >&2
cp "$out/arch/x86/boot/bzImage" "$dest.tmp/vmware-broken.bzImage"
touch "$dest.tmp/complete"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$dest/good.bzImage"
echo "$dest/vmware-broken.bzImage"
