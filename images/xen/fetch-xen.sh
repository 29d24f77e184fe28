#!/bin/sh
# Obtain a Xen hypervisor build for the xen cells, as an uncompressed ELF
# that QEMU's -kernel boots (multiboot).
#
#   fetch-xen.sh CACHEDIR 4.17            Debian's xen-hypervisor-4.17-amd64,
#                                         downloaded and unpacked, never
#                                         installed
#   fetch-xen.sh CACHEDIR PATH [NAME]     your own build: xen.gz or xen ELF
#
# Result: CACHEDIR/NAME/ with xen.elf, version and complete (size and
# sha256 of xen.elf). The directory is filled under a temporary name and
# renamed into place, so a half-written build is never at NAME; an
# existing one is re-verified against its sha256 and rebuilt if it fails.
# Prints the directory.
set -eu
cache=${1:?usage: fetch-xen.sh CACHEDIR VERSION|PATH [NAME]}
src=${2:?usage: fetch-xen.sh CACHEDIR VERSION|PATH [NAME]}
case $src in
*/*) name=${3:-$(basename "$src" | sed 's/\.gz$//')} ;;
*) name=${3:-$src} ;;
esac
dir=$cache/$name

verify() {
	[ -f "$dir/complete" ] && [ -f "$dir/xen.elf" ] || return 1
	want=$(sed -n 's/^sha256 //p' "$dir/complete")
	got=$(sha256sum "$dir/xen.elf" | cut -d' ' -f1)
	[ -n "$want" ] && [ "$want" = "$got" ]
}
if verify; then
	echo "$dir"
	exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.$name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
case $src in
*/*)
	[ -r "$src" ] || { echo "fetch-xen.sh: cannot read $src" >&2; exit 1; }
	if gzip -t "$src" 2>/dev/null; then
		zcat "$src" > "$tmp/xen.elf"
	else
		cp "$src" "$tmp/xen.elf"
	fi
	# The version as the binary states it: Xen embeds its full version.
	strings -n 5 "$tmp/xen.elf" |
		grep -m 1 -E '^[0-9]+\.[0-9]+(\.[0-9]+)?([-+.~][0-9A-Za-z.+~-]*)?$' \
		> "$tmp/version" || echo unknown > "$tmp/version"
	;;
*)
	pkg=xen-hypervisor-$src-amd64
	(cd "$tmp" && apt-get download -q "$pkg" >&2) || {
		echo "fetch-xen.sh: cannot download $pkg (apt-get update?)" >&2
		exit 1
	}
	dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/root"
	zcat "$tmp"/root/boot/xen-"$src"-amd64.gz > "$tmp/xen.elf"
	dpkg-deb -f "$tmp"/"$pkg"_*.deb Version > "$tmp/version"
	rm -rf "$tmp/root" "$tmp"/*.deb
	;;
esac
head -c 4 "$tmp/xen.elf" | grep -q 'ELF' || {
	echo "fetch-xen.sh: $src is not a Xen ELF image" >&2
	exit 1
}
printf 'size %s\nsha256 %s\n' "$(stat -c %s "$tmp/xen.elf")" \
	"$(sha256sum "$tmp/xen.elf" | cut -d' ' -f1)" > "$tmp/complete"
chmod 755 "$tmp"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "$dir"
