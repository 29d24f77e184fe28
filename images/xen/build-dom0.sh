#!/bin/sh
# Build the dom0 initramfs that runs the libxl guest agent inside a Xen
# host (nested under QEMU, or real), for one Xen release. Usage:
#   build-dom0.sh [--release 4.14|4.17|4.20] CACHEDIR AGENT KERNEL_ROOT
# The release (default 4.17) picks dom0's Debian suite, whose toolstack
# is that release's: 4.14 bullseye, 4.17 bookworm, 4.20 trixie (each with
# its -security suite, where Debian ships the hypervisor builds that
# images/hypervisors/fetch-releases.sh unpacks). One release's libxl
# cannot drive another's hypervisor (domctl versions differ).
# AGENT is the source tree's top directory: the agent
# (orchestrator/agent/*.c *.h, orchestrator/judge/panicscan.[ch] and
# early.[ch]) is compiled
# inside the release's build root, against that release's libxenlight.
# An AGENT that is a file is taken as an agent binary built elsewhere
# (it must load only libraries the base has).
# KERNEL_ROOT is the root/ of Debian's linux-image package unpacked
# with dpkg -x. Prints the path of the image (a gzipped newc cpio) on
# stdout; progress goes to stderr. Must run as root (debootstrap, chroot).
#
# Products, each cached in CACHEDIR under a content key, R the release:
# - dom0-root-R-KEY/: the build root, Debian (minbase) with xen-utils-R,
#   busybox-static and the compiler, libc and libxen-dev the agent is
#   built with; a few minutes of debootstrap and apt, once.
# - dom0-base-R-KEY.cpio.gz: what dom0 runs (the toolstack daemons, their
#   libraries, busybox) copied out of that root; 3-4 MB.
# - dom0-hvm-R-KEY.cpio.gz: what dom0 runs for HVM guests only (the device
#   model, its libraries the base lacks, hvmloader, SeaBIOS), zero-padded
#   like the image; 10-20 MB, which every dom0 boot would otherwise unpack
#   (4-7 s under TCG) for guests that are PV or PVH.
# - dom0-agent-R-KEY: the agent compiled in the root (a few seconds).
# - dom0-R-KEY.cpio.gz, the image: two gzipped cpio members concatenated
#   (the kernel unpacks them in turn), zero-padded so that the runner can
#   append its jobs as a plain cpio: the base, and an overlay (/init, the
#   agent, the Xen modules of the dom0 kernel) rebuilt in about a second
#   when the agent changes. Beside it IMAGE%.cpio.gz.vmlinux.gz, dom0's
#   kernel as a gzipped ELF, which Xen loads 4 s faster than the vmlinuz,
#   and IMAGE%.cpio.gz.hvm.cpio.gz, the HVM part (a link), which the runner
#   puts between the image and its jobs when a group has an HVM guest.
# Files have a .sha256 sidecar that is verified before reuse, the root a
# `complete` file written last: a half-written or damaged product is
# rebuilt, never booted.
set -eu
# modinfo, debootstrap and chroot live in sbin, which a sudo or cron PATH
# may lack.
PATH=$PATH:/usr/sbin:/sbin

say() { printf 'build-dom0: %s%s\n' "${release:+$release: }" "$*" >&2; }
die() { say "error: $*"; exit 1; }

release=
if [ "${1:-}" = --release ]; then
	[ $# -ge 2 ] || die "--release needs a value"
	release=$2
	shift 2
fi
release=${release:-4.17}
[ $# -eq 3 ] ||
	die "usage: build-dom0.sh [--release R] CACHEDIR AGENT KERNEL_ROOT"
cache=$1 agent=$2 kroot=$3
here=$(cd "$(dirname "$0")" && pwd)
self=$here/$(basename "$0")
init=$here/dom0-init
case $release in
4.14) suite=bullseye ;;
4.17) suite=bookworm ;;
4.20) suite=trixie ;;
*) die "no dom0 recipe for Xen $release (known: 4.14 4.17 4.20)" ;;
esac
mirror=${HVM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${HVM_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
# The Xen modules dom0 needs for the toolstack; their dependencies are
# added from modinfo.
xen_modules="xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc"
# The agent's sources, relative to AGENT (orchestrator/agent/Makefile.inc
# lists the same files).
agent_sources="orchestrator/agent/xl-agent.c orchestrator/agent/agent-guest.c
	orchestrator/agent/agent-guest.h orchestrator/judge/panicscan.c
	orchestrator/judge/panicscan.h orchestrator/judge/early.c
	orchestrator/judge/early.h"

if [ -d "$agent" ]; then
	for f in $agent_sources; do
		[ -f "$agent/$f" ] || die "agent source not found: $agent/$f"
	done
else
	[ -f "$agent" ] || die "agent binary or source tree not found: $agent"
fi
[ -f "$init" ] || die "dom0 init not found: $init"
moddir=$(ls -d "$kroot"/lib/modules/*/ 2>/dev/null | head -n 1)
[ -n "$moddir" ] || die "no lib/modules/* under $kroot"
moddir=${moddir%/}
kver=$(basename "$moddir")
mkdir -p "$cache"
cache=$(cd "$cache" && pwd -P)

hash16() { sha256sum | cut -c1-16; }

# valid FILE: the file and its sidecar exist and agree.
valid() {
	[ -f "$1" ] && [ -f "$1.sha256" ] &&
		(cd "$(dirname "$1")" && sha256sum --status -c "$1.sha256") \
		2>/dev/null
}

# seal TMP FINAL [FILE...]: write the sidecar (covering FINAL and the
# FILEs already in place beside it), then move both into place. The image
# is renamed before its sidecar, so a crash in between leaves an image
# without a sidecar, which valid() rejects.
seal() {
	tmp=$1 final=$2
	shift 2
	{
		printf '%s  %s\n' "$(sha256sum < "$tmp" | cut -d' ' -f1)" \
			"$(basename "$final")"
		for f in "$@"; do
			(cd "$(dirname "$f")" && sha256sum "$(basename "$f")")
		done
	} > "$final.sha256.tmp"
	rm -f "$final.sha256"
	mv "$tmp" "$final"
	mv "$final.sha256.tmp" "$final.sha256"
}

# section NAME: the text of this script between "# >>> NAME" and
# "# <<< NAME", what a product's key hashes, so that editing the rest of
# the script does not cost a new debootstrap.
section() {
	sed -n "/^# >>> $1\$/,/^# <<< $1\$/p" "$self"
}

# The sources' text, each under its name, for the agent's key.
agent_text() {
	if [ -d "$agent" ]; then
		for f in $agent_sources; do
			echo "$f"
			cat "$agent/$f"
		done
	else
		cat "$agent"
	fi
}

full=${HVM_DOM0_FULL:-0}
rootkey=$({ section root; echo "$release $suite $mirror $security"; } |
	hash16)
root=$cache/dom0-root-$release-$rootkey
basekey=$({ section base; echo "full=$full $rootkey"; } | hash16)
base=$cache/dom0-base-$release-$basekey.cpio.gz
hvmpart=$cache/dom0-hvm-$release-$basekey.cpio.gz
libs=$cache/dom0-base-$release-$basekey.libs
if [ -d "$agent" ]; then
	akey=$({ section agent; agent_text; echo "$rootkey"; } | hash16)
	abin=$cache/dom0-agent-$release-$akey
else
	abin=$agent
fi
# The image's key needs the agent binary, which may not exist yet: it is
# computed again once the agent is built. A cached image is found by its
# agent's key first.
imagekey() {
	{ cat "$self" "$init" "$abin"; echo "$kver full=$full $release"; } |
		hash16
}
if valid "$abin" 2>/dev/null || [ -f "$agent" ]; then
	out=$cache/dom0-$release-$(imagekey).cpio.gz
	if valid "$out"; then
		echo "$out"
		exit 0
	fi
fi

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null ||
	die "debootstrap missing (apt-get install -y debootstrap)"
command -v cpio >/dev/null || die "cpio missing (apt-get install -y cpio)"

# One builder at a time per release and cache: a second one waits, then
# finds what the first one made. Releases build in parallel.
exec 9> "$cache/.dom0-$release.lock"
flock 9

# umount_all ROOT: what a build mounted in a chroot.
umount_all() {
	for m in "$1/proc" "$1/sys" "$1/dev/pts"; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	return 0
}

# Leftovers of a builder that was killed (the lock says none is running).
for d in "$cache"/.dom0-build-"$release".*; do
	[ -d "$d" ] || continue
	umount_all "$d/root"
	rm -rf "$d"
done
work=$(mktemp -d "$cache/.dom0-build-$release.XXXXXX")
cleanup() {
	umount_all "$work/root"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# pack DIR OUT: a reproducible gzipped newc cpio of DIR.
pack() {
	(cd "$1" && find . | LC_ALL=C sort |
		cpio -o -H newc --quiet --reproducible) | gzip -6n > "$2"
}

# pad512 FILE: zero-pad to a 512-byte boundary. The kernel skips zeros
# between archives, but finds an uncompressed cpio (the runner's jobs,
# appended as is, after the HVM part if any) only at an offset that is a
# multiple of 4.
pad512() {
	size=$(stat -c %s "$1")
	head -c $(( (512 - size % 512) % 512 )) /dev/zero >> "$1"
}

# --- the build root: Debian, the Xen toolstack, the agent's compiler ---
# >>> root
xenutils=xen-utils-$release
# The agent's build needs: gcc, libc headers, libxenlight's headers and
# pkg-config files (4.14's xenhypfs.pc requires zlib's). They stay in the
# root, never in dom0's image.
build_packages="gcc libc6-dev libxen-dev pkg-config zlib1g-dev"
# HVM guests: the device model libxl runs for them (qemu-system-xen, the
# suite's QEMU built for Xen; bullseye has none of its own, its
# qemu-system-x86 is built with Xen support and 4.14's libxl runs its
# qemu-system-i386) and SeaBIOS, which libxl hands hvmloader as the BIOS
# (hvmloader itself is in xen-utils-R). Only the files dom0 runs reach
# its image.
case $release in
4.14) hvm_packages="qemu-system-x86 seabios" ;;
*) hvm_packages="qemu-system-xen seabios" ;;
esac
if [ -f "$root/complete" ]; then
	say "build root $root (cached)"
else
	r=$work/root
	say "debootstrap $suite (minbase) for the build root"
	debootstrap --variant=minbase "$suite" "$r" "$mirror" \
		> "$work/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$work/debootstrap.log" >&2;
		  die "debootstrap $suite failed"; }
	cat > "$r/etc/apt/sources.list" <<-EOF
	deb $mirror $suite main
	deb $mirror $suite-updates main
	deb $security $suite-security main
	EOF
	# No daemons may start inside the chroot.
	printf '#!/bin/sh\nexit 101\n' > "$r/usr/sbin/policy-rc.d"
	chmod 0755 "$r/usr/sbin/policy-rc.d"
	mount -t proc proc "$r/proc"
	say "apt-get install $xenutils busybox-static $hvm_packages" \
		"$build_packages"
	# shellcheck disable=SC2086
	{
		chroot "$r" apt-get -q update &&
		DEBIAN_FRONTEND=noninteractive chroot "$r" apt-get -q -y \
			--no-install-recommends install \
			"$xenutils" busybox-static $hvm_packages \
			$build_packages
	} > "$work/apt.log" 2>&1 ||
		{ tail -n 20 "$work/apt.log" >&2; die "apt-get failed"; }
	umount "$r/proc"
	chroot "$r" apt-get -q clean >/dev/null 2>&1 || :
	rm -f "$r/usr/sbin/policy-rc.d"
	# What was installed, for the record (and the check below).
	chroot "$r" dpkg-query -W -f='${Package} ${Version}\n' \
		> "$r/hvmatrix-packages"
	rm -rf "$root"
	mv "$r" "$root"
	date -u +%FT%TZ > "$root/complete"
	say "build root $root"
fi
# <<< root

# The toolstack should be the very build of the hypervisor cells boot
# (images/hypervisors/fetch-releases.sh records its Debian version in
# CACHEDIR/R/manifest, fetch-xen.sh in CACHEDIR/R/version).
utils_version=$(sed -n "s/^$xenutils \\(.*\\)/\\1/p" "$root/hvmatrix-packages")
hv_version=$(sed -n 's/^package //p' "$cache/$release/manifest" 2>/dev/null ||
	:)
[ -n "$hv_version" ] || hv_version=$(cat "$cache/$release/version" \
	2>/dev/null || :)
if [ -n "$hv_version" ] && [ "$hv_version" != "$utils_version" ]; then
	say "warning: $xenutils is $utils_version, the hypervisor in" \
		"$cache/$release is $hv_version"
elif [ -n "$hv_version" ]; then
	say "$xenutils $utils_version, as the hypervisor"
else
	say "$xenutils $utils_version"
fi

# --- the base: what dom0 runs, out of the build root ---
# >>> base
xenbin=/usr/lib/xen-$release/bin
# The toolstack daemons dom0-init starts, and tools worth having at hand
# when a run is debugged by hand (xl, xenstore-ls).
# libgcc_s is dlopen()ed by glibc for pthread_cancel(), which libxl calls
# when its context is freed: ldd cannot see it. libxl runs
# libxl-save-helper to save and restore a guest (the suspend probe).
programs="$xenbin/xenstored $xenbin/xenconsoled $xenbin/xen-init-dom0
	$xenbin/xl $xenbin/libxl-save-helper /usr/bin/xenstore
	/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"
# HVM guests: libxl's device model (the path it was built with, where
# the suite's package puts it: bullseye's libxl runs the plain
# qemu-system-i386), hvmloader, SeaBIOS, and the option ROMs QEMU loads
# for a guest booted from a kernel handed over directly (linuxboot*),
# and the keymap it reads for libxl's "-vnc none" (it dies without it).
# Nothing else of QEMU's data is read: no display, no NIC, vga none.
case $release in
4.14) device_model=/usr/bin/qemu-system-i386 ;;
*) device_model=/usr/libexec/xen-qemu-system-i386 ;;
esac
hvm_files="/usr/lib/xen-$release/boot/hvmloader
	/usr/share/seabios/bios-256k.bin /usr/share/qemu/linuxboot_dma.bin
	/usr/share/qemu/linuxboot.bin /usr/share/qemu/keymaps/en-us"
xenstore_tools="xenstore-read xenstore-write xenstore-ls xenstore-list
	xenstore-exists xenstore-rm xenstore-watch xenstore-chmod"

# copy_closure ROOT MIN HAVE FILE...: copy FILEs of the chroot ROOT, and
# every shared library they load that HAVE (a directory, or "") lacks, to
# the same paths in MIN. Libraries land in /usr/lib (MIN is merged-/usr;
# an older suite's root need not be).
copy_closure() {
	cr=$1 mr=$2 have=$3
	shift 3
	for f in "$@"; do
		# A root that is not merged-/usr keeps libraries in /lib.
		[ -e "$cr$f" ] || [ ! -e "$cr${f#/usr}" ] || f=${f#/usr}
		[ -e "$cr$f" ] || die "$f is not in the build root"
		mkdir -p "$mr$(dirname "$f")"
		cp "$cr$(chroot "$cr" readlink -f "$f")" "$mr$f"
		# "libx.so => /path (addr)" and "/lib64/ld-linux... (addr)"
		chroot "$cr" ldd "$f" | sed -n \
			-e 's/.*=> \(\/[^ ]*\) .*/\1/p' \
			-e 's/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'
	done | sort -u | while read -r l; do
		case $l in
		/lib/*|/lib64/*) d=/usr$l ;;
		*) d=$l ;;
		esac
		[ -e "$mr$d" ] && continue
		[ -n "$have" ] && [ -e "$have$d" ] && continue
		mkdir -p "$mr$(dirname "$d")"
		# Resolved in the chroot: a link may be absolute (bullseye's
		# /lib64/ld-linux-x86-64.so.2), and the host's file is not
		# the suite's.
		cp "$cr$(chroot "$cr" readlink -f "$l")" "$mr$d"
	done
}

if valid "$base" && valid "$hvmpart"; then
	say "base $base (cached)"
elif [ "$full" = 1 ]; then
	say "copy and trim the build root (HVM_DOM0_FULL=1)"
	min=$work/min
	cp -a "$root" "$min"
	rm -f "$min/complete" "$min/hvmatrix-packages"
	# Nothing in dom0 reads docs, locales, udev's hardware database or
	# the package manager's state, and pygrub (python) is never used:
	# guests boot a kernel handed over directly.
	rm -rf "$min"/usr/share/doc/* "$min"/usr/share/man/* \
		"$min"/usr/share/info/* "$min"/usr/share/locale/* \
		"$min"/usr/share/i18n "$min"/usr/share/lintian \
		"$min"/usr/share/zoneinfo "$min"/usr/share/common-licenses \
		"$min"/var/lib/apt/lists/* "$min"/var/cache/apt/* \
		"$min"/var/cache/debconf/*-old "$min"/var/log/* \
		"$min"/usr/lib/python3* "$min"/usr/bin/python3* \
		"$min"/usr/lib/xen-"$release"/lib/python \
		"$min"/usr/lib/udev/hwdb.bin "$min"/usr/lib/udev/hwdb.d \
		"$min"/usr/lib/x86_64-linux-gnu/gconv "$min"/usr/share/perl* \
		"$min"/usr/lib/x86_64-linux-gnu/perl* "${min:?}"/boot/* \
		"$min"/var/lib/dpkg/info/*.md5sums "$min"/usr/lib/gcc \
		"$min"/usr/include
	# debootstrap's device nodes: dom0 mounts devtmpfs.
	rm -rf "${min:?}"/dev/*
fi
if ! valid "$base" || ! valid "$hvmpart"; then
	hmin=$work/hvm
	mkdir -p "$hmin"
	if [ "$full" != 1 ]; then
		say "assemble the minimal root"
		min=$work/min
		mkdir -p "$min/usr/bin" "$min/usr/sbin" "$min/usr/lib" \
			"$min/usr/lib64" "$min/etc" "$min/dev" "$min/proc" \
			"$min/sys" "$min/run" "$min/tmp" "$min/root" \
			"$min/var/lib/xen" "$min/var/log/xen/console"
		for d in bin sbin lib lib64; do
			ln -s usr/$d "$min/$d"
		done
		ln -s /run "$min/var/run"
		chmod 1777 "$min/tmp"
		# shellcheck disable=SC2086
		copy_closure "$root" "$min" "" $programs
		# The HVM part: the device model and its libraries that the
		# base lacks, hvmloader, SeaBIOS (merged-/usr like the base).
		mkdir -p "$hmin/usr/lib" "$hmin/usr/lib64"
		copy_closure "$root" "$hmin" "$min" "$device_model"
		for f in $hvm_files; do
			[ -e "$root$f" ] || die "$f is not in the build root"
			mkdir -p "$hmin$(dirname "$f")"
			cp "$root$(chroot "$root" readlink -f "$f")" "$hmin$f"
		done
		for t in $xenstore_tools; do
			ln -s xenstore "$min/usr/bin/$t"
		done
		cp "$root/bin/busybox" "$min/usr/bin/busybox"
		ln -s busybox "$min/usr/bin/sh"
		# libxl and xenconsoled look up users and groups (devpts
		# ptys belong to group tty).
		printf 'root:x:0:0:root:/root:/bin/sh\n' > "$min/etc/passwd"
		printf 'root:x:0:\ntty:x:5:\n' > "$min/etc/group"
		cp "$root/etc/nsswitch.conf" "$min/etc/" 2>/dev/null || :
		cp -a "$root/etc/xen" "$min/etc/xen"
		ln -s ../proc/self/mounts "$min/etc/mtab"
	fi
	find "$min/usr/lib/x86_64-linux-gnu" "$min/lib/x86_64-linux-gnu" \
		-maxdepth 1 -name '*.so*' -printf '%f\n' 2>/dev/null |
		LC_ALL=C sort -u > "$work/libs"
	say "pack base"
	pack "$min" "$work/base.cpio.gz"
	mv "$work/libs" "$libs"
	# The sidecar vouches for the library list too.
	seal "$work/base.cpio.gz" "$base" "$libs"
	# (HVM_DOM0_FULL's root has the device model: its part is empty.)
	# Only /usr: the part is unpacked over the base, whose /lib, /bin...
	# are symlinks the kernel would replace with directories.
	for f in "$hmin"/* "$hmin"/.[!.]*; do
		[ -e "$f" ] || continue
		[ "$f" = "$hmin/usr" ] || die "the HVM part holds $f, not under /usr"
	done
	say "pack the HVM part"
	pack "$hmin" "$work/hvm.cpio.gz"
	pad512 "$work/hvm.cpio.gz"
	seal "$work/hvm.cpio.gz" "$hvmpart"
	rm -rf "$min" "$hmin"
	say "base $base ($(du -k "$base" | cut -f1) KiB)," \
		"HVM part $(du -k "$hvmpart" | cut -f1) KiB"
fi
# <<< base

# --- the agent, compiled in the build root ---
# >>> agent
if [ -d "$agent" ] && ! valid "$abin"; then
	say "compile the agent against $(chroot "$root" pkg-config \
		--modversion xenlight) libxenlight"
	src=$(mktemp -d "$root/tmp/hvmatrix-agent.XXXXXX")
	# Laid out as under orchestrator/ (agent/ flattened): the sources
	# include the panic scanner as "judge/panicscan.h".
	rel() { r=${1#orchestrator/}; echo "${r#agent/}"; }
	for f in $agent_sources; do
		mkdir -p "$src/$(dirname "$(rel "$f")")"
		cp "$agent/$f" "$src/$(rel "$f")"
	done
	in=/tmp/$(basename "$src")
	set --
	for f in $agent_sources; do
		case $f in *.c) set -- "$@" "$in/$(rel "$f")" ;; esac
	done
	# The flags of configure (Makefile.am's AM_CFLAGS, configure.ac's
	# xenlight modules), with this suite's compiler and headers.
	# shellcheck disable=SC2046
	chroot "$root" gcc -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra \
		-Wno-unused-parameter -Wshadow -I"$in" \
		$(chroot "$root" pkg-config --cflags xenlight xentoollog \
			xencontrol xenguest) \
		-o "$in/hvmatrix-xl-agent" "$@" \
		$(chroot "$root" pkg-config --libs xenlight xentoollog \
			xencontrol xenguest) 2> "$work/cc.log" ||
		{ cat "$work/cc.log" >&2; rm -rf "$src";
		  die "the agent does not compile against Xen $release"; }
	[ -s "$work/cc.log" ] && sed 's/^/build-dom0: cc: /' "$work/cc.log" >&2
	mv "$src/hvmatrix-xl-agent" "$work/agent"
	rm -rf "$src"
	seal "$work/agent" "$abin"
fi
# <<< agent
out=$cache/dom0-$release-$(imagekey).cpio.gz
if valid "$out"; then
	say "image $out (cached)"
	echo "$out"
	exit 0
fi
# The agent must load only libraries the base has, or dom0 would fail at
# its first job instead of here. One compiled in the build root is asked
# there (the host's loader may be older than the suite's).
if [ -d "$agent" ]; then
	t=$(mktemp "$root/tmp/hvmatrix-agent.XXXXXX")
	cp "$abin" "$t"
	chroot "$root" ldd "/tmp/$(basename "$t")" > "$work/ldd" ||
		{ rm -f "$t"; die "ldd of the agent failed in $root"; }
	rm -f "$t"
else
	ldd "$abin" > "$work/ldd" || die "ldd $abin failed"
fi
sed -n 's/^[[:space:]]*\([^ ]*\) => .*/\1/p' "$work/ldd" > "$work/needs"
while read -r so; do
	grep -qx "$so" "$libs" ||
		die "the agent needs $so, which the dom0 base lacks"
done < "$work/needs"

# --- the overlay: /init, the agent, the Xen modules of this kernel ---
ov=$work/overlay
mkdir -p "$ov/usr/sbin" "$ov/usr/lib/modules/hvmatrix" "$ov/dev"
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
	deps=$(modinfo -F depends "$f") || die "modinfo $f failed"
	for d in $(echo "$deps" | tr ',' ' '); do
		add_module "$d"
	done
	order="$order $1"
	case $f in
	*.ko) cp "$f" "$ov/usr/lib/modules/hvmatrix/$1.ko" ;;
	*.xz) xz -dc "$f" > "$ov/usr/lib/modules/hvmatrix/$1.ko" ;;
	*.gz) gzip -dc "$f" > "$ov/usr/lib/modules/hvmatrix/$1.ko" ;;
	*.zst) zstd -qdc "$f" > "$ov/usr/lib/modules/hvmatrix/$1.ko" ;;
	esac
	echo "$1.ko" >> "$ov/usr/lib/modules/hvmatrix/load"
}
for m in $xen_modules; do
	add_module "$m"
done
say "modules ($kver):$order"

cp "$abin" "$ov/usr/sbin/hvmatrix-xl-agent"
cp "$init" "$ov/init"
chmod 0755 "$ov/usr/sbin/hvmatrix-xl-agent" "$ov/init"
pack "$ov" "$work/overlay.cpio.gz"
cat "$base" "$work/overlay.cpio.gz" > "$work/dom0.cpio.gz"
pad512 "$work/dom0.cpio.gz"
hlink=${out%.cpio.gz}.hvm.cpio.gz
ln -f "$hvmpart" "$hlink"

# --- dom0's kernel as a gzipped ELF, beside the image ---
# Xen unpacks an xz bzImage for dom0 in about 5 s under TCG, a gzipped ELF
# vmlinux in about 1 s. The runner boots IMAGE%.cpio.gz.vmlinux.gz as
# dom0's kernel when it exists, else the vmlinuz. Keyed on the vmlinuz.
vmlinuz=$kroot/boot/vmlinuz-$kver
vkey=$(hash16 < "$vmlinuz" 2>/dev/null || :)
vfile=$cache/dom0-vmlinux-$kver-$vkey.gz
vlink=${out%.cpio.gz}.vmlinux.gz

# unpack_vmlinux BZIMAGE OUT: find the compressed ELF in a bzImage (every
# offset where the format's magic occurs, as scripts/extract-vmlinux
# does) and write it to OUT. tr turns the magic's first byte into a line
# start, so grep -b finds each candidate offset.
unpack_vmlinux() {
	for fmt in xz gzip zstd; do
		case $fmt in
		xz) magic='\3757zXZ\000' rest=abcde tool='xz -dc' ;;
		gzip) magic='\037\213\010' rest=xy tool='gzip -dc' ;;
		zstd) magic='\050\265\057\375' rest=abc tool='zstd -dc' ;;
		esac
		command -v "${tool%% *}" >/dev/null || continue
		for pos in $(tr "$magic\n$rest" "\n$rest=" < "$1" |
				LC_ALL=C grep -abo "^$rest" | cut -d: -f1); do
			tail -c +"$pos" "$1" | $tool > "$2" 2>/dev/null
			[ "$(head -c 4 "$2" | od -An -c | tr -d ' ')" = \
				'177ELF' ] && return 0
		done
	done
	return 1
}

if [ -f "$vmlinuz" ] && ! valid "$vfile"; then
	say "dom0 kernel as a gzipped ELF"
	if unpack_vmlinux "$vmlinuz" "$work/vmlinux"; then
		gzip -6n < "$work/vmlinux" > "$work/vmlinux.gz"
		seal "$work/vmlinux.gz" "$vfile"
	else
		say "no ELF found in $vmlinuz: dom0 boots the vmlinuz"
	fi
	rm -f "$work/vmlinux"
fi
if valid "$vfile"; then
	ln -f "$vfile" "$vlink"
	seal "$work/dom0.cpio.gz" "$out" "$hlink" "$vlink"
else
	rm -f "$vlink"
	seal "$work/dom0.cpio.gz" "$out" "$hlink"
fi

# Keep the cache from growing with every agent build: drop this
# release's images, agents, bases and roots of other keys, the newest
# three of each kept (of roots, two: each is a few hundred MB), and never
# one a path file in CACHEDIR/.. names (cache/dom0*.path: the images
# cells boot now). Other releases' products are left alone.
named() {
	cat "$cache"/../dom0*.path 2>/dev/null |
		grep -q "/$(basename "$1")\$"
}
prune() {
	# shellcheck disable=SC2012
	ls -dt "$cache"/$1 2>/dev/null | tail -n +"$2" | while read -r f; do
		named "$f" && continue
		rm -rf "$f" "$f.sha256" "${f%.cpio.gz}.libs" \
			"${f%.cpio.gz}.vmlinux.gz" "${f%.cpio.gz}.hvm.cpio.gz"
	done
}
prune "dom0-$release-????????????????.cpio.gz" 4
prune "dom0-agent-$release-????????????????" 4
prune "dom0-base-$release-????????????????.cpio.gz" 4
prune "dom0-hvm-$release-????????????????.cpio.gz" 4
prune "dom0-root-$release-????????????????" 3
prune 'dom0-vmlinux-*.gz' 4
say "image $out ($(du -k "$out" | cut -f1) KiB)"
echo "$out"
