#!/bin/sh
# Fetch Debian's prebuilt kernel (the package linux-image-amd64 depends on)
# without installing it: apt-get download + dpkg -x into a cache folder.
# Prints the path of the vmlinuz. Usage: fetch-debian-kernel.sh CACHEDIR
set -eu
cache=${1:?usage: fetch-debian-kernel.sh CACHEDIR}
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
[ -n "$pkg" ] || { echo "fetch-debian-kernel.sh: cannot resolve linux-image-amd64 (run apt-get update)" >&2; exit 1; }
dir=$cache/$pkg
if [ ! -f "$dir/.complete" ]; then
	rm -rf "$dir"
	mkdir -p "$dir/deb"
	(cd "$dir/deb" && apt-get download -q "$pkg" >&2)
	dpkg -x "$dir"/deb/*.deb "$dir/root"
	rm -rf "$dir/deb"
	touch "$dir/.complete"
fi
ls "$dir"/root/boot/vmlinuz-* | head -n 1
