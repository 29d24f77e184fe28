#!/usr/bin/env bash
# Stability of the in-guest probes: every probe on the good test kernel in
# every cell of the default matrix (each cell's own probes, the backend's
# default where it names none), N times in a row (`hvmatrix boot --repeat
# N`, the default parallelism) on the machine as loaded as it is. A probe
# that fails on a good kernel under load is a defect of the probe, so the
# figure printed last, the count of probe failures (a probe's `fail`
# line, or a probe that started and never ended), must be 0; the exit
# status is 1 otherwise. Runs that ended for the farm's reasons (ERROR)
# and cells that SKIP (KVM) are counted apart, never as probe failures.
#
# usage: bench/probes-stability.sh [N]   (default 5; env: KERNEL, the good
#                                         test kernel by default; MATRIX)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hvm=$top/hvmatrix
n=${1:-5}
matrix=${MATRIX:-$top/matrices/default.yaml}
kernel=${KERNEL:-$(sh "$top/images/kernels/build-test-kernels.sh" \
	"$top/cache" 2>/dev/null | grep '/good\.bzImage$' || true)}
[ -x "$hvm" ] && [ -r "$kernel" ] || {
	echo "bench: build first and build the test kernels" \
		"(images/kernels/build-test-kernels.sh cache)" >&2
	exit 2
}
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top/cache/xen}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

t0=$(now)
"$hvm" boot --kernel "$kernel" --matrix "$matrix" --repeat "$n" \
	--state "$tmp/state" --json 2> "$tmp/progress" > "$tmp/boot.json" || true
t1=$(now)
HVMATRIX_STATE=$tmp/state "$hvm" results --json > "$tmp/runs.json"

echo "kernel: $kernel"
printf '%s runs (%s cells x %s) in %.0f s on %s cores\n' \
	"$(jq length "$tmp/runs.json")" \
	"$(jq '[.[].cell] | unique | length' "$tmp/runs.json")" "$n" \
	"$(echo "$t1 - $t0" | bc)" "$(nproc)"
echo "verdicts: $(jq -r 'group_by(.verdict) | map("\(.[0].verdict) \(length)") | join(", ")' "$tmp/runs.json")"
echo "probe results: $(jq -r '[.[] | .probes // [] | .[] | .result] | group_by(.) | map("\(.[0]) \(length)") | join(", ")' "$tmp/runs.json")"
echo "per probe: $(jq -r '[.[] | .probes // [] | .[]
	| "\(.name)=\(.result)"] | group_by(.) | map("\(.[0]) \(length)")
	| join(", ")' "$tmp/runs.json")"
# Every run not PASS, with its reason: an ERROR is the farm's, still worth
# reading.
jq -r '.[] | select(.verdict != "PASS" and .verdict != "SKIP")
	| "  \(.verdict) \(.cell) run \(.id): \(.reason)"' "$tmp/runs.json"
# A failed probe has its line; a hung one only the run's reason.
failures=$(jq '[.[] | ((.probes // []) | map(select(.result == "fail"))
	| length) + (if (.reason // "") | test("^probe [^ ]+ hung")
	then 1 else 0 end)] | add // 0' "$tmp/runs.json")
jq -r '.[] | . as $r | (.probes // [])[] | select(.result == "fail")
	| "  probe failure: \($r.cell) run \($r.id): \(.name): \(.detail)"' \
	"$tmp/runs.json"
echo "probe failures: $failures"
[ "$failures" -eq 0 ]
