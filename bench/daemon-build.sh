#!/usr/bin/env bash
# Benchmarks of the daemon's pipeline on the demo kernel tree
# (images/kernels/make-tree.sh), in one run:
#  (a) the incremental build of a one-file commit through hvmatrix (its
#      recorded build time: checkout, config check, make, artifact) vs
#      plain `make` of the same change in the same warm tree, over ROUNDS
#      commits (a single incremental make varies by a second or two here);
#      prints each round's ratio and "build ratio: X.XX" (target <= 1.05).
#      The plain make gets the change as a developer makes it: the file
#      edited in place (src/ is hvmatrix's checkout, with no index to
#      keep, so git must not check out there; see build-checkout.c).
#  (b) push to dashboard: three new one-file commits on a watched branch
#      until the daemon has built each, booted it in every cell of the
#      matrix and rewritten the dashboard, with the next build overlapping
#      the last boots (default) and without (HVMATRIX_NO_OVERLAP); the
#      loop's worst lag during each run; and for the last commit the share
#      of build, boot and the rest (poll, record, publish).
#
# usage: bench/daemon-build.sh [ROUNDS]   (env: MATRIX cells to boot for
#        (b), default matrices/default.yaml; JOBS; HVMATRIX_CCACHE, else
#        the user's shared cache, as hvmatrix picks it: build.h)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hvm=$top/hvmatrix
rounds=${1:-3}
jobs=${JOBS:-$(nproc)}
cellsrc=${MATRIX:-$top/matrices/default.yaml}
[ -x "$hvm" ] || { echo "bench: build first (bash tools/setup.sh)" >&2; exit 2; }
tree=$(sh "$top/images/kernels/make-tree.sh" "$top/cache")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
# A clone we may commit to; the objects are hard links, so it is quick.
git clone -q --local --branch master "$tree" "$tmp/linux"
git -C "$tmp/linux" config user.name "hvmatrix bench"
git -C "$tmp/linux" config user.email bench@hvmatrix.invalid
base=$(git -C "$tmp/linux" rev-parse HEAD)

# Cells: those of $cellsrc, below a tree and a build of our own.
matrix=$tmp/matrix.yaml
{
	cat <<YAML
trees:
  - name: bench
    path: $tmp/linux
    branches: [master]
    first: 1
    poll: 10
builds:
  - name: tiny
    base: tinyconfig
    fragments: $top/images/configs/hvmatrix.config
YAML
	sed -n '/^cells:/,$p' "$cellsrc"
} > "$matrix"
# The same tree and build, no cells: builds alone, for (a).
sed '/^cells:/,$d' "$matrix" > "$tmp/build-only.yaml"
echo "cells: []" >> "$tmp/build-only.yaml"
state=$tmp/state
db=$state/hvmatrix.db
# The compiler cache hvmatrix uses (no ccache key in this matrix), so the
# plain make below is just as warm.
ccache=${HVMATRIX_CCACHE:-}
if [ -z "$ccache" ]; then
	case ${XDG_CACHE_HOME:-} in
	/*) ccache=$XDG_CACHE_HOME/hvmatrix/ccache ;;
	*) ccache=$HOME/.cache/hvmatrix/ccache ;;
	esac
fi
export HVMATRIX_CCACHE=$ccache

echo "bench: warming the build tree with the branch tip (a cold build, minutes)" >&2
"$hvm" run --matrix "$matrix" --state "$state" --jobs "$jobs" --tree bench \
	--rev "$base" -q > /dev/null || true

# A one-file change, as a kernel developer would push it.
one_file_commit() {
	echo "/* bench change $1 */" >> "$tmp/linux/init/version.c"
	git -C "$tmp/linux" commit -q -am "init/version: bench change $1" >&2
	git -C "$tmp/linux" rev-parse HEAD
}

# (b) first, as the daemon sees it: push to dashboard, three one-file
# commits in one push, with builds overlapping the last boots of the
# commit before (the default), then three more with HVMATRIX_NO_OVERLAP
# (each build waits for the boots before it). The daemon prints the
# loop's worst lag over the run ("loop lag: worst N ms").
push3() {	# push3 TAG ENV...: seconds from the push to the last dashboard
	local tag=$1 a b c t0 t1
	shift
	a=$(one_file_commit "$tag-1")
	b=$(one_file_commit "$tag-2")
	c=$(one_file_commit "$tag-3")
	t0=$(now)
	env "$@" "$hvm" daemon --matrix "$matrix" --state "$state" \
		--jobs "$jobs" --until-idle > /dev/null 2> "$tmp/daemon-$tag.log" ||
		true
	t1=$(now)
	echo "$t1 - $t0" | bc
}
push_overlap=$(push3 overlap HVMATRIX_BENCH=1)
lag=$(sed -n 's/.*loop lag: worst \([0-9.]*\) ms.*/\1/p' "$tmp/daemon-overlap.log")
push_serial=$(push3 serial HVMATRIX_NO_OVERLAP=1)
lag_serial=$(sed -n 's/.*loop lag: worst \([0-9.]*\) ms.*/\1/p' "$tmp/daemon-serial.log")
c1=$(git -C "$tmp/linux" rev-parse HEAD)
total=$(sqlite3 "$db" "SELECT max(r.started_at + r.duration_s) - min(b.started_at) FROM runs r, builds b WHERE r.commit_id = '$c1' AND b.commit_id = '$c1'")
build_s=$(sqlite3 "$db" "SELECT duration_s FROM builds WHERE commit_id = '$c1' ORDER BY id DESC LIMIT 1")
boot_s=$(sqlite3 "$db" "SELECT max(started_at + duration_s) - min(started_at) FROM runs WHERE commit_id = '$c1' AND verdict != 'SKIP'")
ncells=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE commit_id = '$c1'")

# (a) the same kind of change through hvmatrix, then by hand, ROUNDS times.
src=$state/build/bench/tiny/src
out=$state/build/bench/tiny/out
mk() { CCACHE_DIR=$ccache make -s -C "$src" O="$out" -j"$jobs" CC="ccache gcc" bzImage; }
# Put commit $1's init/version.c (the file each round changes) in src/.
version_of() { git -C "$tmp/linux" show "$1:init/version.c" > "$src/init/version.c"; }
hvm_build=0 plain=0 ratios=
prev=$c1
for r in $(seq "$rounds"); do
	c=$(one_file_commit "a$r")
	"$hvm" run --matrix "$tmp/build-only.yaml" --state "$state" \
		--jobs "$jobs" --tree bench --rev "$c" -q > /dev/null || true
	t=$(sqlite3 "$db" "SELECT duration_s FROM builds WHERE commit_id = '$c' AND status = 'OK'")
	[ -n "$t" ] || { echo "bench: the build of $c failed" >&2; exit 1; }
	hvm_build=$(echo "$hvm_build + $t" | bc -l)
	# The same change by hand: back to the parent, then time make. src/
	# holds $c again afterwards, as hvmatrix's record says.
	version_of "$prev" && mk > /dev/null
	version_of "$c"
	t0=$(now)
	mk > /dev/null
	t1=$(now)
	p=$(echo "$t1 - $t0" | bc -l)
	plain=$(echo "$plain + $p" | bc -l)
	ratio=$(echo "$t / $p" | bc -l)
	ratios="$ratios $ratio"
	co=$(zstd -dcq "$state/logs/builds/bench/$c-tiny.log.zst" |
		sed -n 's/^--- hvmatrix: checkout: //p')
	printf 'round %d: hvmatrix %.2f s (checkout: %s), plain make %.2f s, ratio %.3f\n' \
		"$r" "$t" "$co" "$p" "$ratio"
	prev=$c
done

printf 'push of 3 one-file commits to dashboard: %.1f s with builds overlapping boots, %.1f s without\n' \
	"$push_overlap" "$push_serial"
printf 'loop lag: worst %s ms (overlap run), %s ms (serial run)\n' \
	"${lag:-?}" "${lag_serial:-?}"
printf 'one commit, build start to last verdict (%s cells): %.1f s: build %.1f s (%.0f%%), boot %.1f s (%.0f%%), the rest %.1f s (%.0f%%)\n' \
	"$ncells" "$total" "$build_s" "$(echo "100 * $build_s / $total" | bc -l)" \
	"$boot_s" "$(echo "100 * $boot_s / $total" | bc -l)" \
	"$(echo "$total - $build_s - $boot_s" | bc -l)" \
	"$(echo "100 * ($total - $build_s - $boot_s) / $total" | bc -l)"
printf 'incremental build, one-file commit (%d rounds): hvmatrix %.2f s, plain make %.2f s\n' \
	"$rounds" "$hvm_build" "$plain"
# One incremental make varies by seconds here: the median of the rounds'
# ratios says more than one round, the spread how much to trust it.
sorted=$(printf '%s\n' $ratios | sort -g)
median=$(echo "$sorted" | awk '{ v[NR] = $1 } END {
	print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
printf 'round ratios: median %.3f, min %.3f, max %.3f\n' "$median" \
	"$(echo "$sorted" | head -1)" "$(echo "$sorted" | tail -1)"
printf 'build ratio: %.2f\n' "$(echo "$hvm_build / $plain" | bc -l)"
