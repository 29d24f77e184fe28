#!/usr/bin/env bash
# Fetch the released kernels the matrix's web section names ("5.10",
# "6.1", "6.12", "7.3") from Debian's archive: the newest amd64 image of
# that series in its suite, unpacked, never installed.
#
#   fetch-releases.sh CACHEDIR [RELEASE...]   (default: the default matrix's)
#
# The suites are the hypervisor releases' (images/debian-apt.sh: the same
# private apt per suite set, one fetch at a time per set, retried once
# after a fresh update): 5.10 from bullseye, 6.1 from bookworm, 6.12 from
# trixie, 6.16 and later from trixie-backports. The package is
# linux-image-VERSION-amd64-unsigned (its image boot/vmlinuz-*), or for 7.x
# linux-binary-VERSION-amd64 (usr/lib/modules/*/vmlinuz). `dpkg-deb -x`
# unpacks it into CACHEDIR/kernels/RELEASE/root/, and only the image and
# its config are kept (the modules are not booted: the payload is an
# initramfs). A directory with a manifest is complete and is not fetched
# again: a second run is a no-op. Filled under a temporary name, renamed.
#
# Manifest lines ("KEY VALUE", read by orchestrator/matrix/kernels.c):
#   release R, suite S, package P, version DEBVERSION, path PATH (the
#   image, relative to the release directory), sha256 HEX (the image),
#   deb NAME VERSION SHA256.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: fetch-releases.sh CACHEDIR [RELEASE...]}
shift
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# The default matrix's web kernels (matrices/default.yaml, web: kernels).
all=(5.10 6.1 6.12 7.3)
[ $# -gt 0 ] || set -- "${all[@]}"

say() { printf 'fetch-kernels: %s\n' "$*" >&2; }
# shellcheck source=../debian-apt.sh
. "$here/../debian-apt.sh"

# The suites of a release and the pattern of its package's name (the
# newest match, as versions, is fetched).
release() {
	local esc=${1//./\\.}
	case $1 in
	5.10) suites="bullseye-security bullseye"; key=bullseye
		pattern="^linux-image-5\\.10\\.0-[0-9]+-amd64-unsigned\$" ;;
	6.1) suites="bookworm-security bookworm bookworm-updates"
		key=bookworm
		pattern="^linux-image-6\\.1\\.0-[0-9]+-amd64-unsigned\$" ;;
	6.12) suites="trixie-security trixie"; key=trixie
		pattern="^linux-image-6\\.12\\.[0-9]+\\+deb13-amd64-unsigned\$" ;;
	6.1[6-9]) suites="trixie-backports trixie"; key=trixie
		pattern="^linux-image-$esc\\.[0-9]+\\+deb13-amd64-unsigned\$" ;;
	[7-9].*) suites="trixie-backports trixie"; key=trixie
		pattern="^linux-binary-$esc\\.[0-9]+\\+deb13-amd64\$" ;;
	*) say "unknown release $1 (known: 5.10, 6.1, 6.12, 6.16-6.19," \
		"7.x from trixie-backports)"; return 1 ;;
	esac
}

# The newest package of the series, with the private apt's $opt.
want_kernel() {
	apt-cache "${opt[@]}" pkgnames linux- | grep -E "$pattern" |
		sort -V | tail -n 1
}

fetch_one() {
	local rel=$1
	local dir=$cache/kernels/$rel
	[ -f "$dir/manifest" ] && return 0
	local suites key pattern
	release "$rel"
	mkdir -p "$cache/kernels"
	local tmp
	tmp=$(mktemp -d "$cache/kernels/.$rel.XXXXXX")
	# Each release is fetched in a subshell of its own: its exit, also
	# on an error, removes what it left.
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	debian_apt_download "$suites" "$key" "$tmp/debs" want_kernel || {
		say "$rel: apt-get download failed ($suites)"; return 1; }
	local deb pkg ver img
	deb=$(ls "$tmp"/debs/*.deb | head -n 1)
	pkg=$(dpkg-deb -f "$deb" Package)
	ver=$(dpkg-deb -f "$deb" Version)
	dpkg-deb -x "$deb" "$tmp/root"
	img=$(cd "$tmp" && find root/boot root/usr/lib/modules \
		\( -name 'vmlinuz-*' -o -name vmlinuz \) -type f \
		2>/dev/null | sort | head -n 1 || true)
	[ -n "$img" ] || { say "$rel: no image in $pkg"; return 1; }
	# Only the image and its config stay: nothing loads modules.
	find "$tmp/root" -mindepth 1 -depth ! -path "$tmp/$img" \
		! -name 'config-*' ! -name config -type f -delete
	find "$tmp/root" -depth -type d -empty -delete
	{
		printf 'release %s\nsuite %s\npackage %s\nversion %s\n' \
			"$rel" "${suites%% *}" "$pkg" "$ver"
		printf 'path %s\nsha256 %s\n' "$img" \
			"$(sha256sum "$tmp/$img" | cut -d' ' -f1)"
		printf 'deb %s %s %s\n' "$pkg" "$ver" \
			"$(sha256sum "$deb" | cut -d' ' -f1)"
	} > "$tmp/manifest.part"
	rm -rf "$tmp/debs"
	debian_apt_publish "$tmp" "$dir"
	trap - EXIT
	say "$rel: $pkg $ver"
}

debian_apt_each fetch_one "$@"
