#!/usr/bin/env bash
# Benchmark: the same cells booted through `hvmatrix boot` and as the
# identical QEMU command lines run directly with `xargs -P`, same
# parallelism. Each round times both and prints its ratio (hvmatrix /
# direct); the end prints "ratio: X.XX", the median over the rounds, with
# their spread (min..max): one round's ratio moves with the machine's
# noise, the median of several is the figure (target <= 1.02). Rounds
# alternate which goes first, to spread any drift in machine load evenly.
#
# usage: bench/boot-ratio.sh [ROUNDS]   (default 5; env: KERNEL, JOBS,
#                                        MATRIX, CELLS)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hvm=$top/hvmatrix
rounds=${1:-5}
jobs=${JOBS:-$(nproc)}
matrix=${MATRIX:-$top/matrices/default.yaml}
kernel=${KERNEL:-$(cat "$top/cache/debian-kernel.path" 2>/dev/null || true)}
[ -x "$hvm" ] && [ -r "$kernel" ] || {
	echo "bench: build first and fetch a kernel (bash tools/setup.sh)" >&2
	exit 2
}
# Every TCG cell of the default matrix (the KVM cells only SKIP here).
read -r -a cells <<< "${CELLS:-i440fx-* q35-* microvm vmware-vmport}"
sel=()
for c in "${cells[@]}"; do sel+=(--cell "$c"); done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

t_direct=0 t_hvm=0
ratios=()
for r in $(seq "$rounds"); do
	"$hvm" boot --kernel "$kernel" --matrix "$matrix" "${sel[@]}" \
		--dry-run > "$tmp/cmds"
	n=$(wc -l < "$tmp/cmds")
	direct() {
		# The exact argv hvmatrix would run, each line shell-quoted
		# by it.
		xargs -P "$jobs" -d '\n' -I{} sh -c '{} >/dev/null 2>&1 </dev/null' \
			< "$tmp/cmds" || true
	}
	through_hvmatrix() {
		"$hvm" boot --kernel "$kernel" --matrix "$matrix" "${sel[@]}" \
			--jobs "$jobs" --state "$tmp/state" --quiet \
			> "$tmp/table" || true
	}
	# Odd rounds run direct first, even rounds hvmatrix first.
	if [ $((r % 2)) = 1 ]; then
		t0=$(now); direct; t1=$(now); through_hvmatrix; t2=$(now)
		d=$(echo "$t1 - $t0" | bc) h=$(echo "$t2 - $t1" | bc)
	else
		t0=$(now); through_hvmatrix; t1=$(now); direct; t2=$(now)
		h=$(echo "$t1 - $t0" | bc) d=$(echo "$t2 - $t1" | bc)
	fi
	pass=$(grep -c ' PASS ' "$tmp/table" || true)
	ratio=$(echo "scale=4; $h / $d" | bc)
	ratios+=("$ratio")
	printf 'round %d: %d cells, %d jobs: direct %.2f s, hvmatrix %.2f s (%d PASS), ratio %.3f\n' \
		"$r" "$n" "$jobs" "$d" "$h" "$pass" "$ratio"
	t_direct=$(echo "$t_direct + $d" | bc)
	t_hvm=$(echo "$t_hvm + $h" | bc)
done
printf 'direct (xargs -P %d): %.2f s\n' "$jobs" "$t_direct"
printf 'hvmatrix boot:       %.2f s\n' "$t_hvm"
printf 'ratio of the totals: %.3f\n' "$(echo "scale=4; $t_hvm / $t_direct" | bc)"
# The median of the rounds' ratios (the mean of the middle two for an even
# count), and their spread.
printf '%s\n' "${ratios[@]}" | sort -n | awk '
	{ v[NR] = $1 }
	END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "ratio: %.3f (median of %d rounds; spread %.3f..%.3f)\n",
			m, NR, v[1], v[NR]
	}'
