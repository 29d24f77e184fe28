#!/usr/bin/env bash
# The compatibility web from an empty store, through the real daemon: the
# web kernels of the default matrix (hvmatrix kernels; tools/setup.sh
# fetches them) x the default matrix's cells without one QEMU release's,
# then the time to absorb that release (its cells put back: only they
# boot, every web kernel in each). Prints the boots, their verdicts and
# the wall times. Long (every default cell per kernel): not run in CI.
# usage: bench/web.sh [JOBS [QEMU_RELEASE]]   (default: 2 11.1)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hvm=$top/hvmatrix
[ -x "$hvm" ] || { echo "bench: build first (bash tools/setup.sh)" >&2; exit 2; }
jobs=${1:-2} rel=${2:-11.1}
"$hvm" kernels --json > /dev/null || {
	echo "bench: no web kernel fetched (bash tools/setup.sh)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HVMATRIX_STATE=$tmp/state
cp "$top/matrices/default.yaml" "$tmp/full.yaml"
cp "$tmp/full.yaml" "$tmp/m.yaml"
# Without the release: its cells, and the migrations to it.
"$hvm" matrix list --matrix "$tmp/full.yaml" --json |
	jq -r --arg r "$rel" '.[] | select(.qemu == $r or .migrate_to == $r) | .name' \
	> "$tmp/release-cells"
while read -r c; do
	"$hvm" matrix remove "$c" --matrix "$tmp/m.yaml" > /dev/null
done < "$tmp/release-cells"
now() { date +%s.%N; }
q() { sqlite3 "$HVMATRIX_STATE/hvmatrix.db" "$1" 2>/dev/null || echo 0; }
# run NAME: one daemon until idle; its web boots, their verdicts, its time.
run() {
	local t0 t1 last n
	last=$(q "SELECT coalesce(max(id), 0) FROM runs")
	t0=$(now)
	"$hvm" daemon --matrix "$tmp/m.yaml" --jobs "$jobs" --until-idle \
		> "$tmp/daemon-$1.log" 2>&1 || true
	t1=$(now)
	n=$(q "SELECT count(*) FROM runs WHERE tree = 'release' AND id > $last")
	printf '%-30s %4d boots %7.0f s  %s\n' "$1" "$n" \
		"$(echo "$t1 - $t0" | bc)" \
		"$(q "SELECT group_concat(v, ' ') FROM (SELECT verdict || \
			'=' || count(*) AS v FROM runs WHERE tree = 'release' \
			AND id > $last GROUP BY verdict)")"
}
kernels=$("$hvm" kernels --json | jq -r '[.[].release] | join(" ")')
cells=$("$hvm" matrix list --matrix "$tmp/m.yaml" --json | jq length)
echo "web kernels: $kernels; $cells cells without QEMU $rel" \
	"($(wc -l < "$tmp/release-cells") of its); $jobs cores"
run "the web from an empty store"
cp "$tmp/full.yaml" "$tmp/m.yaml"
run "QEMU $rel absorbed"
run "nothing changed"
