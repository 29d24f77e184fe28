#!/usr/bin/env bash
# Benchmark the in-guest probes.
#
# kinds: per cell kind (QEMU q35, Xen PV and PVH dom0, libxl PV and PVH
# guests; two vCPUs each), the kind booted with `probes: []` and with each
# probe alone, N times each (--repeat): the median seconds from start to
# verdict of each, and what each probe adds to the boot-only median; the
# guest's own figure for the probe (its line's seconds=) beside it. One
# run at a time, so the figures are per run, not per core; the libxl
# guests share dom0 boots and report the guest's own time.
#
# matrix: the whole default matrix for one kernel as it stands (its
# probes) and with every cell `probes: []`, each timed from start to end
# with the default parallelism: both wall times and the difference.
#
# usage: bench/probes.sh [N]        (default 3; env: KERNEL, the good test
#                                    kernel by default; PARTS, default
#                                    "kinds matrix"; KINDS, default
#                                    "q35 pv-dom0 pvh-dom0 libxl-pv
#                                    libxl-pvh"; MATRIX)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hvm=$top/hvmatrix
n=${1:-3}
parts=${PARTS:-kinds matrix}
kinds=${KINDS:-q35 pv-dom0 pvh-dom0 libxl-pv libxl-pvh}
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
cpu="max,-smap,-smep,-pku,-la57"

# kind NAME: the cell settings of one kind (YAML lines under a name).
kind() {
	case $1 in
	q35)	printf '    machine: pc-q35-7.2\n' ;;
	pv-dom0)
		printf '    backend: xen\n    xen: "4.17"\n    cpu: %s\n' "$cpu"
		printf '    memory: 1024\n' ;;
	pvh-dom0)
		printf '    backend: xen\n    xen: "4.17"\n    cpu: %s\n' \
			"$cpu,-rdtscp"
		printf '    memory: 1024\n    machine: q35\n'
		printf '    qemu_args: [-device, amd-iommu]\n'
		printf '    xen_cmdline: dom0=pvh dom0_mem=512M,max:512M\n' ;;
	libxl-pv | libxl-pvh)
		printf '    backend: xen-libxl\n    xen: "4.17"\n    cpu: %s\n' \
			"$cpu"
		printf '    guest: %s\n' "${1#libxl-}" ;;
	esac
	printf '    smp: 2\n'
}
# The probes a cell of the kind runs when it names none: the backend's
# default, as the matrix loader says it.
kind_probes() {
	{ printf 'cells:\n  - name: %s\n' "$1"; kind "$1"; } > "$tmp/one.yaml"
	"$hvm" matrix show "$1" --json -f "$tmp/one.yaml" |
		jq -r '.probes | join(" ")'
}

bench_kinds() {
	local k p
	{
		echo "cells:"
		for k in $kinds; do
			printf '  - name: %s--none\n' "$k"
			kind "$k"
			printf '    probes: []\n'
			for p in $(kind_probes "$k"); do
				printf '  - name: %s--%s\n' "$k" "$p"
				kind "$k"
				printf '    probes: [%s]\n' "$p"
			done
		done
	} > "$tmp/kinds.yaml"
	"$hvm" boot --kernel "$kernel" --matrix "$tmp/kinds.yaml" \
		--repeat "$n" --jobs 1 --state "$tmp/kinds" --json \
		2> "$tmp/kinds.err" > "$tmp/kinds.json" || true
	HVMATRIX_STATE=$tmp/kinds "$hvm" results --json > "$tmp/kinds-runs.json"
	echo "== seconds each probe adds, per cell kind (median of $n," \
		"start to verdict; guest: the probe's own seconds=)"
	jq -r '
		def median: sort | if length == 0 then null
			else .[(length - 1) / 2 | floor] end;
		def r1: if . == null then "-"
			else . * 10 | round / 10 | if . == 0 then 0 else . end
			| tostring end;
		def runs($c): map(select(.cell == $c));
		def wall($c): runs($c) | map(.duration_s) | median;
		def verdicts($c): runs($c) | map(.verdict) | unique | join("/");
		def guest($c; $p): runs($c) | map(.probes // [] | .[]
			| select(.name == $p) | .seconds) | median;
		. as $all
		| ($all | map(.cell | split("--")[0]) | unique)[] as $k
		| ($all | wall($k + "--none")) as $base
		| "\($k): boot only \($base | r1) s (\($all | verdicts($k + "--none")))",
		  ((($all | map(.cell | select(startswith($k + "--"))
			| split("--")[1]) | unique) - ["none"])[] as $p
		  | ($k + "--" + $p) as $c
		  | ($all | wall($c)) as $w
		  | "  +\($p): \(if $w == null or $base == null then null
			else $w - $base end | r1) s (\($w | r1) s with it;" +
		    " the guest timed the probe \($all | guest($c; $p) | r1) s;" +
		    " \($all | verdicts($c)))")
	' "$tmp/kinds-runs.json"
}

# The default matrix's cells, each with `probes: []` (a cell's own
# probes and migrate_to dropped): version and cells only, the trees and
# builds are not what is timed.
no_probes() {
	awk '
		/^version:/ { print; next }
		/^[^ #]/ { in_cells = ($0 ~ /^cells:/); if (!in_cells) next }
		!in_cells { next }
		skip && /^      / { next }
		{ skip = 0 }
		/^    (probes|migrate_to):/ { skip = ($0 ~ /:[ \t]*$/); next }
		{ print }
		/^  - name:/ { print "    probes: []" }
	' "$1"
}

bench_matrix() {
	local t0 t1 t2
	no_probes "$matrix" > "$tmp/no-probes.yaml"
	"$hvm" matrix check "$tmp/no-probes.yaml" > /dev/null
	t0=$(now)
	"$hvm" boot --kernel "$kernel" --matrix "$matrix" --state "$tmp/m1" \
		--json 2> "$tmp/m1.err" > "$tmp/m1.json" || true
	t1=$(now)
	"$hvm" boot --kernel "$kernel" --matrix "$tmp/no-probes.yaml" \
		--state "$tmp/m2" --json 2> "$tmp/m2.err" > "$tmp/m2.json" || true
	t2=$(now)
	echo "== the default matrix ($(jq length "$tmp/m1.json") cells), one kernel, $(nproc) cores"
	counts() { jq -r 'group_by(.verdict) | map("\(.[0].verdict) \(length)") | join(", ")' "$1"; }
	printf 'with probes:   %6.1f s wall (%s)\n' "$(echo "$t1 - $t0" | bc)" \
		"$(counts "$tmp/m1.json")"
	printf 'probes: []:    %6.1f s wall (%s)\n' "$(echo "$t2 - $t1" | bc)" \
		"$(counts "$tmp/m2.json")"
	printf 'probes add:    %6.1f s\n' "$(echo "($t1 - $t0) - ($t2 - $t1)" | bc)"
}

echo "kernel: $kernel"
for p in $parts; do
	case $p in
	kinds) bench_kinds ;;
	matrix) bench_matrix ;;
	*) echo "bench: unknown part $p (kinds, matrix)" >&2; exit 2 ;;
	esac
done
