#!/usr/bin/env bash
# The Slurm executor's cost: the same matrix (N plain cells booting the
# good test kernel, images/kernels/build-test-kernels.sh) through the real
# daemon three times, once with the local executor and twice through a
# private single-node Slurm (tools/slurm-node.sh) on this machine: the N
# cells of the build as one job array (the default), and as N jobs
# (arrays: false); and once more with the build a Slurm job too (builds:
# true, a build that copies a prebuilt kernel: the cost of a build job).
# All with 2 runs at a time (--jobs 2 here, 2 CPUs for Slurm). Prints cells per minute each way (over the whole daemon run:
# poll, a build that copies a prebuilt kernel, the boots, the records) and
# the overhead per cell in seconds: (slurm - local) / N.
# Target: <= 1 s per cell. Needs root (slurmd).
# usage: bench/slurm.sh [N]   (default 12)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hvm=$top/hvmatrix
n=${1:-12}
[ -x "$hvm" ] || { echo "bench: build first (bash tools/setup.sh)" >&2; exit 2; }
good=$(sh "$top/images/kernels/build-test-kernels.sh" "$top/cache" | sed -n 1p)
tmp=$(mktemp -d)
chmod 755 "$tmp"
. "$top/tools/slurm-node.sh"
trap 'slurm_stop; rm -rf "$tmp"' EXIT
export HVMATRIX_CCACHE=$tmp/ccache
# Each way gets its own copy of the payload, so that strays are findable.
cp "${HVMATRIX_INITRD:-$top/images/payload.cpio.gz}" "$tmp/payload.cpio.gz"
export HVMATRIX_INITRD=$tmp/payload.cpio.gz

tree=$tmp/tree
mkdir -p "$tree"
git -C "$tree" init -q -b master
printf '%s\n' 'tinyconfig olddefconfig:' \
	'	mkdir -p $(O) && touch $(O)/.config' 'bzImage:' \
	'	mkdir -p $(O)/arch/x86/boot' \
	"	cp $good \$(O)/arch/x86/boot/bzImage" > "$tree/Makefile"
git -C "$tree" add -A
git -C "$tree" -c user.name=bench -c user.email=b@example.org commit -q -m one
cells=
for i in $(seq 1 "$n"); do
	cells="$cells
  - {name: plain$i, expect: hypervisor=none}"
done
head="trees:
  - {name: t, path: $tree}
builds:
  - {name: b, base: tinyconfig}"
printf '%s\ncells:%s\n' "$head" "$cells" > "$tmp/local.yaml"
printf '%s\nexecutor:\n  kind: slurm\n  shared_dir: %s\ncells:%s\n' \
	"$head" "$tmp/shared" "$cells" > "$tmp/slurm.yaml"
printf '%s\nexecutor:\n  kind: slurm\n  arrays: false\n  shared_dir: %s\ncells:%s\n' \
	"$head" "$tmp/shared" "$cells" > "$tmp/jobs.yaml"
printf '%s\nexecutor:\n  kind: slurm\n  builds: true\n  shared_dir: %s\ncells:%s\n' \
	"$head" "$tmp/shared" "$cells" > "$tmp/builds.yaml"

slurm_start "$tmp/slurm" || { echo "bench: Slurm did not start" >&2; exit 1; }

now() { date +%s.%N; }
run() {	# run WAY: seconds of the daemon's whole run
	local t0 t1
	t0=$(now)
	"$hvm" daemon --matrix "$tmp/$1.yaml" --state "$tmp/s-$1" --jobs 2 \
		--until-idle > "$tmp/$1.log" 2>&1 || true
	t1=$(now)
	echo "$(echo "$t1 - $t0" | bc)"
}
wall_local=$(run local)
wall_slurm=$(run slurm)
wall_jobs=$(run jobs)
wall_builds=$(run builds)
verdicts() { "$hvm" results --json --state "$tmp/s-$1" |
	jq -r '[.[] | .verdict] | group_by(.) | map("\(.[0])=\(length)") | join(" ")'; }
mean() { "$hvm" results --json --state "$tmp/s-$1" |
	jq '[.[] | .duration_s] | add / length'; }
node_s=$(mean slurm)
jobs_s=$(mean jobs)
local_s=$("$hvm" results --json --state "$tmp/s-local" |
	jq '[.[] | .duration_s] | add / length')
printf 'cells: %d (good kernel, plain cells), 2 at a time each way\n' "$n"
printf 'local: %s; whole daemon run %.1f s, %.1f cells/min; mean boot %.2f s\n' \
	"$(verdicts local)" "$wall_local" "$(echo "$n * 60 / $wall_local" | bc -l)" "$local_s"
printf 'slurm, one array: %s; whole daemon run %.1f s, %.1f cells/min; mean boot on the node %.2f s\n' \
	"$(verdicts slurm)" "$wall_slurm" "$(echo "$n * 60 / $wall_slurm" | bc -l)" "$node_s"
printf 'slurm, %d jobs: %s; whole daemon run %.1f s, %.1f cells/min; mean boot on the node %.2f s\n' \
	"$n" "$(verdicts jobs)" "$wall_jobs" "$(echo "$n * 60 / $wall_jobs" | bc -l)" "$jobs_s"
printf 'slurm, the build a job too: %s; whole daemon run %.1f s, %.1f cells/min\n' \
	"$(verdicts builds)" "$wall_builds" "$(echo "$n * 60 / $wall_builds" | bc -l)"
printf 'the build as a Slurm job: %.2f s more than the array with a local build\n' \
	"$(echo "$wall_builds - $wall_slurm" | bc -l)"
printf 'overhead per cell over local: %.2f s with the array, %.2f s with one job a cell (target <= 1 s)\n' \
	"$(echo "($wall_slurm - $wall_local) / $n" | bc -l)" \
	"$(echo "($wall_jobs - $wall_local) / $n" | bc -l)"
