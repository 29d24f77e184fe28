#!/bin/sh
# Build the dom0 initramfs that runs the libxl guest agent inside a Xen
# host (nested under QEMU, or real). Usage:
#   build-dom0.sh CACHEDIR AGENT_BINARY DEBIAN_KERNEL_ROOT
# DEBIAN_KERNEL_ROOT is the root/ of Debian's linux-image package unpacked
# with dpkg -x. Prints the path of the image (a gzipped newc cpio) on
# stdout; progress goes to stderr. Must run as root (debootstrap, chroot).
#
# The image is two gzipped cpio members, concatenated (the kernel unpacks
# them in turn), zero-padded so that the runner can append its jobs as a
# plain cpio: a base (Debian bookworm's xen-utils-4.17 and busybox-static,
# cut down to what dom0 runs; 3.3 MB, about a minute to build) keyed on
# its own section of this script, and an overlay (/init, the agent, the
# Xen modules of the dom0 kernel) rebuilt in about a second when the
# agent changes. Beside IMAGE it leaves IMAGE%.cpio.gz.vmlinux.gz, dom0's
# kernel as a gzipped ELF, which Xen loads 4 s faster than the vmlinuz.
# Everything is cached in CACHEDIR under a content key with a .sha256
# sidecar that is verified before reuse: a half-written or damaged image
# is rebuilt, never booted.
set -eu

say() { printf 'build-dom0: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ $# -eq 3 ] ||
	die "usage: build-dom0.sh CACHEDIR AGENT_BINARY DEBIAN_KERNEL_ROOT"
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

full=${HVM_DOM0_FULL:-0}
key=$({ cat "$self" "$init" "$agent"; echo "$kver full=$full"; } | hash16)
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

# Leftovers of a builder that was killed (the lock says none is running).
for d in "$cache"/.dom0-build.*; do
	[ -d "$d" ] || continue
	mountpoint -q "$d/root/proc" 2>/dev/null && umount -l "$d/root/proc"
	rm -rf "$d"
done
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

# --- the base: Debian + the Xen toolstack ---
# Keyed on the text between the ">>> base" and "<<< base" lines only, so
# that editing the rest of this script does not cost a new debootstrap.
# >>> base
# pack DIR OUT: a reproducible gzipped newc cpio of DIR.
pack() {
	(cd "$1" && find . | LC_ALL=C sort |
		cpio -o -H newc --quiet --reproducible) | gzip -6n > "$2"
}

# By default the base holds only what dom0 runs (the daemons, libxl and
# their libraries, busybox): every MiB of initramfs costs dom0 about
# 0.3 s of unpacking under TCG. HVM_DOM0_FULL=1 packs the whole trimmed
# Debian root instead (about 36 MB gzipped), to tell a missing file from a
# real problem.
basekey=$({ sed -n '/^# >>> base$/,/^# <<< base$/p' "$self"
	echo "full=$full $suite $mirror $security"; } | hash16)
base=$cache/dom0-base-$basekey.cpio.gz
libs=$cache/dom0-base-$basekey.libs
xenbin=/usr/lib/xen-4.17/bin
# The toolstack daemons dom0-init starts, and tools worth having at hand
# when a run is debugged by hand (xl, xenstore-ls).
# libgcc_s is dlopen()ed by glibc for pthread_cancel(), which libxl calls
# when its context is freed: ldd cannot see it.
programs="$xenbin/xenstored $xenbin/xenconsoled $xenbin/xen-init-dom0
	$xenbin/xl /usr/bin/xenstore /usr/lib/x86_64-linux-gnu/libgcc_s.so.1"
xenstore_tools="xenstore-read xenstore-write xenstore-ls xenstore-list
	xenstore-exists xenstore-rm xenstore-watch xenstore-chmod"

# copy_closure ROOT MIN FILE...: copy FILEs of the chroot ROOT, and every
# shared library they load, to the same paths in MIN. Libraries land in
# /usr/lib (the roots are merged-/usr).
copy_closure() {
	cr=$1 mr=$2
	shift 2
	for f in "$@"; do
		mkdir -p "$mr$(dirname "$f")"
		cp -L "$cr$f" "$mr$f"
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
		mkdir -p "$mr$(dirname "$d")"
		cp -L "$cr$l" "$mr$d"
	done
}

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

	if [ "$full" = 1 ]; then
		say "trim"
		chroot "$root" apt-get -q clean >/dev/null 2>&1 || :
		# Nothing in dom0 reads docs, locales, udev's hardware
		# database or the package manager's state, and pygrub
		# (python) is never used: guests boot a kernel handed over
		# directly.
		rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* \
			"$root"/usr/share/info/* "$root"/usr/share/locale/* \
			"$root"/usr/share/i18n "$root"/usr/share/lintian \
			"$root"/usr/share/zoneinfo \
			"$root"/usr/share/common-licenses \
			"$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* \
			"$root"/var/cache/debconf/*-old "$root"/var/log/* \
			"$root"/usr/lib/python3* "$root"/usr/bin/python3* \
			"$root"/usr/lib/xen-4.17/lib/python \
			"$root"/usr/lib/udev/hwdb.bin \
			"$root"/usr/lib/udev/hwdb.d \
			"$root"/usr/lib/x86_64-linux-gnu/gconv \
			"$root"/usr/share/perl* \
			"$root"/usr/lib/x86_64-linux-gnu/perl* \
			"${root:?}"/boot/* "$root"/var/lib/dpkg/info/*.md5sums
		# debootstrap's device nodes: dom0 mounts devtmpfs.
		rm -rf "${root:?}"/dev/*
		min=$root
	else
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
		copy_closure "$root" "$min" $programs
		for t in $xenstore_tools; do
			ln -s xenstore "$min/usr/bin/$t"
		done
		cp "$root/usr/bin/busybox" "$min/usr/bin/busybox"
		ln -s busybox "$min/usr/bin/sh"
		# libxl and xenconsoled look up users and groups (devpts
		# ptys belong to group tty).
		printf 'root:x:0:0:root:/root:/bin/sh\n' > "$min/etc/passwd"
		printf 'root:x:0:\ntty:x:5:\n' > "$min/etc/group"
		cp "$root/etc/nsswitch.conf" "$min/etc/" 2>/dev/null || :
		cp -a "$root/etc/xen" "$min/etc/xen"
		ln -s ../proc/self/mounts "$min/etc/mtab"
	fi
	find "$min/usr/lib/x86_64-linux-gnu" -maxdepth 1 -name '*.so*' \
		-printf '%f\n' | LC_ALL=C sort > "$work/libs"
	say "pack base"
	pack "$min" "$work/base.cpio.gz"
	mv "$work/libs" "$libs"
	# The sidecar vouches for the library list too.
	seal "$work/base.cpio.gz" "$base" "$libs"
	rm -rf "$root" "$work/min"
	say "base $base ($(du -k "$base" | cut -f1) KiB)"
fi
# <<< base

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
	for d in $(modinfo -F depends "$f" | tr ',' ' '); do
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

# The agent is built on this host: every library it loads must be in
# the base, or dom0 would fail at its first job instead of here.
for so in $(ldd "$agent" | sed -n 's/^[[:space:]]*\([^ ]*\) => .*/\1/p'); do
	grep -qx "$so" "$libs" ||
		die "the agent needs $so, which the dom0 base lacks"
done
cp "$agent" "$ov/usr/sbin/hvmatrix-xl-agent"
cp "$init" "$ov/init"
chmod 0755 "$ov/usr/sbin/hvmatrix-xl-agent" "$ov/init"
pack "$ov" "$work/overlay.cpio.gz"
# Zero-pad to a 512-byte boundary: the kernel skips zeros between
# archives, but finds an uncompressed cpio (the runner's jobs, appended
# as is) only at an offset that is a multiple of 4.
{
	cat "$base" "$work/overlay.cpio.gz"
	size=$(($(stat -c %s "$base") +
		$(stat -c %s "$work/overlay.cpio.gz")))
	head -c $(( (512 - size % 512) % 512 )) /dev/zero
} > "$work/dom0.cpio.gz"

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
	seal "$work/dom0.cpio.gz" "$out" "$vlink"
else
	rm -f "$vlink"
	seal "$work/dom0.cpio.gz" "$out"
fi

# Keep the cache from growing with every agent build: drop the images of
# other keys (and bases of other scripts), newest three of each kept.
prune() {
	ls -t "$cache"/$1 2>/dev/null | tail -n +4 | while read -r f; do
		rm -f "$f" "$f.sha256" "${f%.cpio.gz}.libs" \
			"${f%.cpio.gz}.vmlinux.gz"
	done
}
prune 'dom0-????????????????.cpio.gz'
prune 'dom0-base-*.cpio.gz'
prune 'dom0-vmlinux-*.gz'
say "image $out ($(du -k "$out" | cut -f1) KiB)"
echo "$out"
