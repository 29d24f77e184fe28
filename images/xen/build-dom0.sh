#!/bin/sh
# Build the dom0 initramfs that runs the libxl guest agent inside a Xen
# host (nested under QEMU, or real). Usage:
#   build-dom0.sh CACHEDIR AGENT_BINARY DEBIAN_KERNEL_ROOT
# DEBIAN_KERNEL_ROOT is the root/ of Debian's linux-image package unpacked
# with dpkg -x. Prints the path of the image (a gzipped newc cpio) on
# stdout; progress goes to stderr. Must run as root (debootstrap, chroot).
#
# The image is two gzipped cpio members, concatenated (the kernel unpacks
# them in turn): a base (Debian bookworm minbase + xen-utils-4.17 +
# busybox-static, about 30 s to build) that depends on this script only,
# and a small overlay (/init, the agent, the Xen modules of the dom0
# kernel) rebuilt in well under a second when the agent changes. Both are
# cached in CACHEDIR under a content key, each with a .sha256 sidecar that
# is verified before reuse: a half-written or damaged image is rebuilt,
# never booted.
set -eu

say() { printf 'build-dom0: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ $# -eq 3 ] || die "usage: build-dom0.sh CACHEDIR AGENT_BINARY DEBIAN_KERNEL_ROOT"
cache=$1 agent=$2 kroot=$3
here=$(cd "$(dirname "$0")" && pwd)
self=$here/$(basename "$0")
init=$here/dom0-init
suite=bookworm
mirror=${HVM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${HVM_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
# The Xen modules dom0 needs for the toolstack; their dependencies are
# added from modinfo.
xen_modules="xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc"

[ -f "$agent" ] || die "agent binary not found: $agent"
[ -f "$init" ] || die "dom0 init not found: $init"
moddir=$(ls -d "$kroot"/lib/modules/*/ 2>/dev/null | head -n 1)
[ -n "$moddir" ] || die "no lib/modules/* under $kroot"
moddir=${moddir%/}
kver=$(basename "$moddir")
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

hash16() { sha256sum | cut -c1-16; }

# valid FILE: the file and its sidecar exist and agree.
valid() {
	[ -f "$1" ] && [ -f "$1.sha256" ] &&
		(cd "$(dirname "$1")" && sha256sum --status -c "$1.sha256") \
		2>/dev/null
}

# seal TMP FINAL: write the sidecar, then move both into place. The image
# is renamed before its sidecar, so a crash in between leaves an image
# without a sidecar, which valid() rejects.
seal() {
	sum=$(sha256sum < "$1" | cut -d' ' -f1)
	printf '%s  %s\n' "$sum" "$(basename "$2")" > "$2.sha256.tmp"
	rm -f "$2.sha256"
	mv "$1" "$2"
	mv "$2.sha256.tmp" "$2.sha256"
}

key=$({ cat "$self" "$init" "$agent"; echo "$kver"; } | hash16)
out=$cache/dom0-$key.cpio.gz
if valid "$out"; then
	echo "$out"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null ||
	die "debootstrap missing (apt-get install -y debootstrap)"
command -v cpio >/dev/null || die "cpio missing (apt-get install -y cpio)"

# One builder at a time per cache: a second one waits, then finds the
# image the first one made.
exec 9> "$cache/.dom0.lock"
flock 9
if valid "$out"; then
	echo "$out"
	exit 0
fi

work=$(mktemp -d "$cache/.dom0-build.XXXXXX")
root=$work/root
cleanup() {
	for m in "$root/proc" "$root/sys" "$root/dev/pts"; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# pack DIR OUT: a reproducible gzipped newc cpio of DIR.
pack() {
	(cd "$1" && find . | LC_ALL=C sort |
		cpio -o -H newc --quiet --reproducible) | gzip -6n > "$2"
}

# --- the base: Debian + the Xen toolstack, keyed on this script only ---
basekey=$(hash16 < "$self")
base=$cache/dom0-base-$basekey.cpio.gz
if valid "$base"; then
	say "base $base (cached)"
else
	say "debootstrap $suite (minbase)"
	debootstrap --variant=minbase "$suite" "$root" "$mirror" \
		> "$work/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$work/debootstrap.log" >&2;
		  die "debootstrap failed"; }
	cat > "$root/etc/apt/sources.list" <<-EOF
	deb $mirror $suite main
	deb $mirror $suite-updates main
	deb $security $suite-security main
	EOF
	# No daemons may start inside the chroot.
	printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
	mount -t proc proc "$root/proc"
	say "apt-get install xen-utils-4.17 busybox-static"
	{
		chroot "$root" apt-get -q update &&
		DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -q -y \
			--no-install-recommends install \
			xen-utils-4.17 busybox-static
	} > "$work/apt.log" 2>&1 ||
		{ tail -n 20 "$work/apt.log" >&2; die "apt-get failed"; }
	umount "$root/proc"
	say "xen-utils-4.17 $(chroot "$root" dpkg-query -W \
		-f='${Version}' xen-utils-4.17)"
	rm -f "$root/usr/sbin/policy-rc.d"

	say "trim"
	chroot "$root" apt-get -q clean >/dev/null 2>&1 || :
	# Nothing in dom0 reads docs, locales or the package manager's
	# state, and pygrub (python) is never used: guests boot a kernel
	# handed over directly.
	rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* \
		"$root"/usr/share/info/* "$root"/usr/share/locale/* \
		"$root"/usr/share/i18n "$root"/usr/share/lintian \
		"$root"/usr/share/zoneinfo "$root"/usr/share/common-licenses \
		"$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* \
		"$root"/var/cache/debconf/*-old "$root"/var/log/* \
		"$root"/usr/lib/python3* "$root"/usr/bin/python3* \
		"$root"/usr/lib/x86_64-linux-gnu/gconv \
		"$root"/usr/share/perl* "$root"/usr/lib/x86_64-linux-gnu/perl* \
		"$root"/boot/* "$root"/var/lib/dpkg/info/*.md5sums
	# debootstrap's device nodes: dom0 mounts devtmpfs instead.
	rm -rf "$root"/dev/*
	say "pack base"
	pack "$root" "$work/base.cpio.gz"
	seal "$work/base.cpio.gz" "$base"
	rm -rf "$root"
	say "base $base ($(du -k "$base" | cut -f1) KiB)"
fi

# --- the overlay: /init, the agent, the Xen modules of this kernel ---
ov=$work/overlay
mkdir -p "$ov/usr/sbin" "$ov/lib/modules/hvmatrix" "$ov/dev"
# The kernel opens /dev/console for /init before anything is mounted.
mknod -m 600 "$ov/dev/console" c 5 1
mknod -m 666 "$ov/dev/null" c 1 3

# modpath NAME: the .ko file of module NAME (dashes and underscores are
# the same to the kernel).
modpath() {
	pat=$(printf '%s' "$1" | sed 's/[-_]/[-_]/g')
	find "$moddir/kernel" -regex ".*/$pat\.ko\(\.[gx]z\|\.zst\)?" |
		head -n 1
}

# Load order: each module after what it depends on.
order=
add_module() {
	case " $order " in *" $1 "*) return 0 ;; esac
	f=$(modpath "$1")
	[ -n "$f" ] || die "module $1 not found under $moddir"
	for d in $(modinfo -F depends "$f" | tr ',' ' '); do
		add_module "$d"
	done
	order="$order $1"
	case $f in
	*.ko) cp "$f" "$ov/lib/modules/hvmatrix/$1.ko" ;;
	*.xz) xz -dc "$f" > "$ov/lib/modules/hvmatrix/$1.ko" ;;
	*.gz) gzip -dc "$f" > "$ov/lib/modules/hvmatrix/$1.ko" ;;
	*.zst) zstd -qdc "$f" > "$ov/lib/modules/hvmatrix/$1.ko" ;;
	esac
	echo "$1.ko" >> "$ov/lib/modules/hvmatrix/load"
}
for m in $xen_modules; do
	add_module "$m"
done
say "modules ($kver):$order"

cp "$agent" "$ov/usr/sbin/hvmatrix-xl-agent"
cp "$init" "$ov/init"
chmod 0755 "$ov/usr/sbin/hvmatrix-xl-agent" "$ov/init"
pack "$ov" "$work/overlay.cpio.gz"
# Zero-pad to a 512-byte boundary: the kernel skips zeros between
# archives, but finds an uncompressed cpio (the runner's jobs, appended
# as is) only at an offset that is a multiple of 4.
{
	cat "$base" "$work/overlay.cpio.gz"
	size=$(( $(stat -c %s "$base") + $(stat -c %s "$work/overlay.cpio.gz") ))
	head -c $(( (512 - size % 512) % 512 )) /dev/zero
} > "$work/dom0.cpio.gz"
seal "$work/dom0.cpio.gz" "$out"

# Keep the cache from growing with every agent build: drop the images of
# other keys (and bases of other scripts), newest three of each kept.
prune() {
	ls -t "$cache"/$1 2>/dev/null | tail -n +4 | while read -r f; do
		rm -f "$f" "$f.sha256"
	done
}
prune 'dom0-????????????????.cpio.gz'
prune 'dom0-base-*.cpio.gz'
say "image $out ($(du -k "$out" | cut -f1) KiB)"
echo "$out"
