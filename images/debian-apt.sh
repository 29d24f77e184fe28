# Sourced by bash fetchers (images/hypervisors/fetch-releases.sh,
# images/kernels/fetch-releases.sh): Debian's archive through a private
# apt configuration, nothing written to /etc/apt and nothing installed.
#
# Each set of suites gets CACHE/apt-releases/SUITE+SUITE.../ (its own
# sources.list, lists, package cache and empty dpkg status; keys from
# debian-archive-keyring's files). Callers set $cache (absolute) first.
#
#   debian_apt_download "SUITES" KEY DESTDIR WANTFN
#	download the packages WANTFN prints into DESTDIR. WANTFN runs with
#	the apt options in the array `opt` (for apt-cache queries) under
#	the suite set's lock. 0, or 1 after two failed tries.
#   debian_apt_publish TMP DIR
#	TMP (filled, its manifest written as TMP/manifest.part) becomes
#	DIR, the manifest renamed last: a directory with a manifest is
#	complete.
#   debian_apt_each FN ITEM...
#	FN ITEM for every ITEM at once, in the background; 0 when all
#	succeeded, else 1 after saying which failed (with `say`).

mirror=${HVMATRIX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${HVMATRIX_DEBIAN_SECURITY:-http://security.debian.org/debian-security}
keys=/usr/share/keyrings/debian-archive-keyring.gpg

# The private apt of one set of suites: prints the apt-get options.
debian_apt_options() {
	local name=$1 key=$2; shift 2
	local d=$cache/apt-releases/$name
	[ -n "$key" ]
	mkdir -p "$d/lists/partial" "$d/archives/partial" "$d/parts" \
		"$d/prefs"
	[ -f "$d/status" ] || : > "$d/status"
	local s line list=""
	for s in "$@"; do
		case $s in
		*-security) line="deb [signed-by=$keys] $security $s main" ;;
		*) line="deb [signed-by=$keys] $mirror $s main" ;;
		esac
		list+="$line"$'\n'
	done
	printf '%s' "$list" > "$d/sources.list"
	printf '%s\n' \
		-o "Dir::Etc::sourcelist=$d/sources.list" \
		-o "Dir::Etc::sourceparts=$d/parts" \
		-o "Dir::Etc::preferencesparts=$d/prefs" \
		-o "Dir::Etc::preferences=$d/prefs/none" \
		-o "Dir::State=$d" -o "Dir::State::lists=$d/lists" \
		-o "Dir::State::status=$d/status" \
		-o "Dir::Cache=$d" -o "Dir::Cache::archives=$d/archives" \
		-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" \
		-o "APT::Architecture=amd64" \
		-o "APT::Architectures=amd64" -o "Acquire::Languages=none" \
		-o "APT::Sandbox::User=root" -o "Debug::NoLocking=1"
	# A backport wins over its base suite; elsewhere the newest version
	# (a point release can be newer than a superseded security upload).
	case $1 in
	*-backports) printf '%s\n' -o "APT::Default-Release=$1" ;;
	esac
}

debian_apt_download() {
	local suites=$1 key=$2 dest=$3 wantfn=$4
	local name=${suites// /+}
	local ad=$cache/apt-releases/$name
	mkdir -p "$ad" "$dest"
	# Fetches from the same suites share one private apt, and use it
	# one at a time: its files (options, lists, package cache) are
	# rewritten by each, and a second apt-get reading them half-written
	# "cannot locate" packages that are there (seen once in a fresh
	# clone: qemu/5.2 beside xen/4.14, both bullseye). Other suites
	# fetch in parallel. A failed download is tried once more after a
	# fresh update (lists a broken update left behind look fresh).
	local try
	for try in 1 2; do
	(
		flock 9
		[ "$try" = 2 ] && rm -f "$ad"/lists/*Packages*
		# shellcheck disable=SC2086
		debian_apt_options "$name" "$key" $suites > "$ad/options"
		mapfile -t opt < "$ad/options"
		# One update per suite set a day is plenty; a failed one
		# leaves no fresh lists, so the next run tries again.
		if [ -z "$(find "$ad/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
			apt-get "${opt[@]}" -qq update >&2
		fi
		want=$("$wantfn")
		[ -n "$want" ] || exit 1
		# shellcheck disable=SC2086
		cd "$dest" && apt-get "${opt[@]}" -qq download $want >&2
	) 9>"$ad/lock" && return 0
	done
	return 1
}

debian_apt_publish() {
	local tmp=$1 dir=$2
	chmod 755 "$tmp"
	mv "$tmp/manifest.part" "$tmp/manifest"
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

debian_apt_each() {
	local fn=$1 item i rc=0
	shift
	local pids=() names=()
	for item in "$@"; do
		"$fn" "$item" &
		pids+=($!) names+=("$item")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { say "${names[$i]}: failed"; rc=1; }
	done
	return $rc
}
