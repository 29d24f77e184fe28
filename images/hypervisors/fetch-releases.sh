#!/usr/bin/env bash
# Fetch the hypervisor releases the matrix can name (qemu: "10.0",
# xen: "4.20") from Debian's archive, unpacked, never installed.
#
#   fetch-releases.sh CACHEDIR [KIND/VERSION...]   (default: all of them)
#
# Each suite gets a private apt configuration under CACHEDIR/apt-releases/
# SUITE/ (its own sources.list, lists, package cache and empty dpkg status;
# keys from debian-archive-keyring's files): nothing is written to /etc/apt
# and nothing is installed. `apt-get download` fetches the release's .debs,
# `dpkg-deb -x` unpacks them into CACHEDIR/qemu/VERSION/root/ (QEMU with its
# own firmware: qemu-system-data, seabios, ipxe-qemu, for -L, and
# its modules: qemu-system-common) or
# CACHEDIR/xen/VERSION/ (xen.elf, as images/xen/fetch-xen.sh lays it out).
# What was fetched (each .deb's package, version and sha256, the binary's
# sha256, how to run it) is written to VERSION/manifest, the last file, so
# a directory with a manifest is complete; such a release is not fetched
# again. Directories are filled under a temporary name and renamed. The
# releases are fetched in parallel (network-bound). Xen 4.17 is today's:
# images/xen/fetch-xen.sh.
#
# Manifest lines ("KEY VALUE", read by orchestrator/matrix/hypervisors.c):
#   kind qemu|xen, version V, suite S, package DEBVERSION,
#   binary PATH (relative to the release directory), firmware P1:P2 (-L
#   each, ahead of the host's firmware),
#   module_dir PATH (QEMU_MODULE_DIR), library_path P1:P2 (LD_LIBRARY_PATH,
#   or the loader's --library-path), loader PATH (run the binary through
#   this ld.so), sha256 HEX (the binary), deb NAME VERSION SHA256 (one each).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: fetch-releases.sh CACHEDIR [KIND/VERSION...]}
shift
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
all=(qemu/5.2 qemu/7.2 qemu/10.0 qemu/11.1 xen/4.14 xen/4.17 xen/4.20)
[ $# -gt 0 ] || set -- "${all[@]}"

say() { printf 'fetch-releases: %s\n' "$*" >&2; }
# shellcheck source=../debian-apt.sh
. "$here/../debian-apt.sh"

# The suites a release comes from (a backports suite first is apt's
# default release, so its packages win over its base's), its packages, and for QEMU the
# binary's libraries this host lacks: "host" (the host has them all),
# "extra" (a few listed libraries on LD_LIBRARY_PATH) or "own" (the
# release's own loader and every library it depends on).
release() {
	case $1 in
	qemu/5.2) suites="bullseye-security bullseye"; key=bullseye
		pkgs="qemu-system-x86 qemu-system-common qemu-system-data seabios ipxe-qemu"
		libs="libxenmisc4.14 libxenstore3.0 liburing1 libvirglrenderer1"
		mode=extra ;;
	qemu/7.2) suites="bookworm-security bookworm bookworm-updates"
		key=bookworm
		pkgs="qemu-system-x86 qemu-system-common qemu-system-data seabios ipxe-qemu"
		libs=""; mode=host ;;
	qemu/10.0) suites="bookworm-backports bookworm"; key=bookworm
		pkgs="qemu-system-x86 qemu-system-common qemu-system-data seabios ipxe-qemu"
		libs=""; mode=host ;;
	qemu/11.1) suites="trixie-backports trixie"; key=trixie
		pkgs="qemu-system-x86 qemu-system-common qemu-system-data seabios ipxe-qemu"
		libs=""; mode=own ;;
	xen/4.14) suites="bullseye-security bullseye"; key=bullseye
		pkgs="xen-hypervisor-4.14-amd64"; libs=""; mode=xen ;;
	xen/4.20) suites="trixie-security trixie"; key=trixie
		pkgs="xen-hypervisor-4.20-amd64"; libs=""; mode=xen ;;
	*) say "unknown release $1 (known: ${all[*]})"; return 1 ;;
	esac
}

# The packages of the release being fetched ($pkgs $libs, or for "own"
# everything the binary depends on), with the private apt's $opt.
want_packages() {
	if [ "$mode" = own ]; then
		# Every package the binary depends on, recursively:
		# the release runs through its own loader with none
		# of the host's libraries.
		apt-cache "${opt[@]}" depends --recurse \
			--no-recommends --no-suggests --no-conflicts \
			--no-breaks --no-replaces --no-enhances \
			--no-pre-depends $pkgs |
			grep -E '^[a-z0-9]' | grep -v '^<' | sort -u |
			tr '\n' ' '
		echo " libc6 libgcc-s1"
	else
		echo "$pkgs $libs"
	fi
}

fetch_one() {
	local rel=$1 kind=${1%/*} ver=${1#*/}
	local dir=$cache/$kind/$ver
	if [ "$rel" = xen/4.17 ]; then
		sh "$here/../xen/fetch-xen.sh" "$cache/xen" 4.17 >/dev/null
		return
	fi
	[ -f "$dir/manifest" ] && return 0
	local suites key pkgs libs mode
	release "$rel"
	local tmp
	mkdir -p "$cache/$kind"
	tmp=$(mktemp -d "$cache/$kind/.$ver.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" RETURN
	local ok=
	debian_apt_download "$suites" "$key" "$tmp/debs" want_packages && ok=1
	[ -n "$ok" ] || {
		say "$rel: apt-get download failed ($suites)"; return 1; }
	local deb m="$tmp/manifest.new"
	: > "$m"
	for deb in "$tmp"/debs/*.deb; do
		if [ "$kind" = qemu ] || [ "$mode" = xen ]; then
			dpkg-deb -x "$deb" "$tmp/root"
		fi
		printf 'deb %s %s %s\n' "$(dpkg-deb -f "$deb" Package)" \
			"$(dpkg-deb -f "$deb" Version)" \
			"$(sha256sum "$deb" | cut -d' ' -f1)" >> "$m"
	done
	local main=${pkgs%% *} pver
	pver=$(dpkg-deb -f "$tmp"/debs/"$main"_*.deb Version)
	{
		printf 'kind %s\nversion %s\nsuite %s\npackage %s\n' \
			"$kind" "$ver" "${suites%% *}" "$pver"
	} > "$tmp/manifest.head"
	if [ "$mode" = xen ]; then
		zcat "$tmp"/root/boot/xen-"$ver"-amd64.gz > "$tmp/xen.elf"
		head -c 4 "$tmp/xen.elf" | grep -q ELF || {
			say "$rel: not a Xen ELF image"; return 1; }
		echo "$pver" > "$tmp/version"
		printf 'size %s\nsha256 %s\n' "$(stat -c %s "$tmp/xen.elf")" \
			"$(sha256sum "$tmp/xen.elf" | cut -d' ' -f1)" \
			> "$tmp/complete"
		rm -rf "$tmp/root"
		printf 'binary xen.elf\nsha256 %s\n' \
			"$(sha256sum "$tmp/xen.elf" | cut -d' ' -f1)" \
			>> "$tmp/manifest.head"
	else
		local bin=root/usr/bin/qemu-system-x86_64
		[ -x "$tmp/$bin" ] || { say "$rel: no $bin"; return 1; }
		# Debian's firmware links are absolute (/usr/share/seabios/...):
		# point them into this release's own tree.
		local l t
		while IFS= read -r l; do
			t=$(readlink "$l")
			case $t in
			/*) ln -sfnr "$tmp/root$t" "$l" ;;
			esac
		done < <(find "$tmp/root/usr/share/qemu" -type l)
		{
			# Debian's QEMU searches these three (its
			# --firmwarepath): each becomes one -L, ahead of the host's.
			local fw="" f
			for f in usr/share/qemu usr/share/seabios usr/lib/ipxe/qemu; do
				[ -d "$tmp/root/$f" ] && fw+="${fw:+:}root/$f"
			done
			printf 'binary %s\nfirmware %s\n' "$bin" "$fw"
			printf 'module_dir root/usr/lib/x86_64-linux-gnu/qemu\n'
			case $mode in
			extra) printf 'library_path root/usr/lib/x86_64-linux-gnu:root/lib/x86_64-linux-gnu\n' ;;
			own) printf 'library_path root/lib/x86_64-linux-gnu:root/usr/lib/x86_64-linux-gnu\n'
				printf 'loader root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n' ;;
			esac
			printf 'sha256 %s\n' "$(sha256sum "$tmp/$bin" | cut -d' ' -f1)"
		} >> "$tmp/manifest.head"
	fi
	rm -rf "$tmp/debs"
	cat "$tmp/manifest.head" "$m" > "$tmp/manifest.part"
	rm -f "$tmp/manifest.head" "$m"
	debian_apt_publish "$tmp" "$dir"
	trap - RETURN
	say "$rel: $pver"
}

debian_apt_each fetch_one "$@"
