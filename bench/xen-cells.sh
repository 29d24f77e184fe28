#!/usr/bin/env bash
# Benchmark the Xen cells: seconds from start to verdict for each kind
# (PV dom0, PVH dom0, libxl PV guest, libxl PVH guest), then N libxl guest
# cells sharing one nested dom0 boot against the same N cells in N
# separate boots (a distinct QEMU -name keeps them from grouping).
# One job at a time, so the figures are per cell, not per core.
#
# usage: bench/xen-cells.sh [N]        (env: KERNEL)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hvm=$top/hvmatrix
n=${1:-3}
kernel=${KERNEL:-$(cat "$top/cache/debian-kernel.path" 2>/dev/null || true)}
[ -x "$hvm" ] && [ -r "$kernel" ] || {
	echo "bench: build first and fetch a kernel (bash tools/setup.sh)" >&2
	exit 2
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cpu="max,-smap,-smep,-pku,-la57"

cell() {	# NAME BACKEND CPU EXTRA-LINES...
	printf '  - name: %s\n    backend: %s\n    xen: "4.17"\n    cpu: %s\n' \
		"$1" "$2" "$3"
	shift 3
	for l in "$@"; do printf '    %s\n' "$l"; done
}
{
	echo "cells:"
	cell pv-dom0 xen "$cpu" "memory: 1024"
	cell pvh-dom0 xen "$cpu,-rdtscp" "memory: 1024" "machine: q35" \
		"qemu_args: [-device, amd-iommu]" \
		"xen_cmdline: dom0=pvh dom0_mem=512M,max:512M"
	cell libxl-pv xen-libxl "$cpu" "guest: pv" "qemu_args: [-name, k1]"
	cell libxl-pvh xen-libxl "$cpu" "guest: pvh" "qemu_args: [-name, k2]"
} > "$tmp/kinds.yaml"
{
	echo "cells:"
	for i in $(seq "$n"); do cell "group-$i" xen-libxl "$cpu"; done
	for i in $(seq "$n"); do
		cell "apart-$i" xen-libxl "$cpu" "qemu_args: [-name, apart-$i]"
	done
} > "$tmp/groups.yaml"

now() { date +%s.%N; }
"$hvm" boot --kernel "$kernel" --matrix "$tmp/kinds.yaml" --jobs 1 \
	--state "$tmp/state" --json 2>/dev/null > "$tmp/kinds.json" || true
jq -r '.[] | "\(.cell): \(.verdict) in \(.duration_s * 10 | round / 10) s (start to verdict)"' \
	"$tmp/kinds.json"
# libxl cells report the guest's own time; the boot around it is the
# wall time of a one-cell run:
for c in libxl-pv libxl-pvh; do
	t0=$(now)
	"$hvm" boot --kernel "$kernel" --matrix "$tmp/kinds.yaml" --cell "$c" \
		--jobs 1 --state "$tmp/state" --quiet > /dev/null || true
	printf '%s: %.1f s from QEMU start to verdict\n' "$c" \
		"$(echo "$(now) - $t0" | bc)"
done
t0=$(now)
"$hvm" boot --kernel "$kernel" --matrix "$tmp/groups.yaml" --cell 'group-*' \
	--jobs 1 --state "$tmp/state" --quiet > /dev/null || true
t1=$(now)
"$hvm" boot --kernel "$kernel" --matrix "$tmp/groups.yaml" --cell 'apart-*' \
	--jobs 1 --state "$tmp/state" --quiet > /dev/null || true
t2=$(now)
g=$(echo "$t1 - $t0" | bc) a=$(echo "$t2 - $t1" | bc)
printf '%d guests in one dom0 boot: %.1f s\n' "$n" "$g"
printf '%d guests in %d separate boots: %.1f s\n' "$n" "$n" "$a"
printf 'ratio: %.2f\n' "$(echo "scale=4; $g / $a" | bc)"
