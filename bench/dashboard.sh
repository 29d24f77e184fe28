#!/usr/bin/env bash
# Dashboard speed: a synthetic store of COMMITS commits x CELLS cells
# (default 10,000 x 40), made through the real record API by
# bench/dashboard-store (built by make), then `hvmatrix dashboard` timed
# twice: a full generation into an empty directory, and an incremental
# one after one more commit. Peak RSS from /usr/bin/time -v. Prints
#   dashboard full: S s, M MB
#   dashboard incremental: S s
# and, on stderr, the CPU each took and (HVMATRIX_DEBUG_PUBLISH) where it
# spent its time. The incremental one reads the runs cached beside the
# store (STATE/runs-cache) and only the runs recorded since.
# HVMATRIX_BIN names another hvmatrix to time (an older build, to compare
# before and after on the same machine, runs interleaved).
# usage: bench/dashboard.sh [COMMITS [CELLS]]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hvm=${HVMATRIX_BIN:-$top/hvmatrix}
commits=${1:-10000} cells=${2:-40}
[ -x "$hvm" ] || { echo "bench: build first (bash tools/setup.sh)" >&2; exit 2; }
make -s -C "$top" bench/dashboard-store >&2
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (package time)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HVMATRIX_WEB=$top/web HVMATRIX_DEBUG_PUBLISH=1
echo "bench: recording $commits commits x $cells cells..." >&2
"$top/bench/dashboard-store" "$tmp/state" "$commits" "$cells"
run() {	# OUT: seconds and peak KB of one generation
	/usr/bin/time -v -o "$tmp/time" "$hvm" dashboard --state "$tmp/state" \
		--out "$tmp/site" > /dev/null 2> "$tmp/err" || {
		cat "$tmp/err" >&2; exit 1; }
	sed 's/^/bench: /' "$tmp/err" >&2
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":");
		s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' \
		"$tmp/time")
	kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time")
	# The CPU it took, beside the wall clock a busy machine stretches.
	awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 }
		END { printf "bench: cpu %s s user, %s s system\n", u, s }' \
		"$tmp/time" >&2
}
run
printf 'dashboard full: %.2f s, %d MB\n' "$secs" $(( (kb + 1023) / 1024 ))
"$top/bench/dashboard-store" --add "$tmp/state" "$cells"
run
printf 'dashboard incremental: %.2f s\n' "$secs"
