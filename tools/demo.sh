#!/usr/bin/env bash
# The main job on the built-in default: make a real kernel git tree (Debian's
# linux-source-6.1 with demo commits on top: one harmless, one that breaks
# the VMware interface, one that does not compile, and their revert), then
# run the daemon over matrices/demo.yaml (default.yaml's trees, builds and
# every hypervisor release, fewer cells) until its queue is empty: every
# commit is built (incrementally after the first) and booted in every cell,
# and the dashboard is written.
#
# The closing summary says what the store holds (the newest verdict of
# every cell of every commit), not how the last daemon exited: run twice,
# the second daemon has nothing to do, and the findings are still there.
#
# usage: tools/demo.sh [--summary]   (--summary: only the closing summary
#                                     of an existing state directory)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
state=${HVMATRIX_STATE:-$top/hvmatrix-state}
# HVMATRIX_BIN=/usr/local/bin/hvmatrix: the demo with an installed hvmatrix.
hvm=${HVMATRIX_BIN:-./hvmatrix}

# "demo: the store holds N commits: ..." and one line per commit with a
# finding. Fails when the store holds no commit or an ERROR (the farm's
# trouble, not a finding).
summary() {
	local commits n errors
	commits=$("$hvm" results --state "$state" --commits --json)
	jq -r '
		def counts($o; $all):
			["PASS", "FAIL", "ERROR", "SKIP", "BLOCKED"]
			| map(select($all or $o[.] > 0) | "\($o[.]) \(.)")
			| join(", ");
		length as $n
		| (reduce .[] as $c ({PASS: 0, FAIL: 0, ERROR: 0, SKIP: 0,
				      BLOCKED: 0};
			with_entries(.value += $c[.key]))) as $tot
		| "demo: the store holds \($n) commit\(if $n == 1 then ""
			else "s" end): \(counts($tot; true))",
		  (.[] | select(.FAIL + .ERROR + .BLOCKED > 0)
		   | "demo:   \(.tree) \(.commit[0:12]) \(.subject | tojson): \(counts(.; false))")
	' <<< "$commits"
	n=$(jq length <<< "$commits")
	errors=$(jq 'map(.ERROR) | add // 0' <<< "$commits")
	jq -e 'map(.FAIL + .BLOCKED) | add // 0 > 0' <<< "$commits" \
		> /dev/null &&
		echo "demo: FAIL and BLOCKED are findings: the demo commits" \
			"break on purpose"
	if [ -f "$state/dashboard/index.html" ]; then
		echo "demo: dashboard: $state/dashboard/index.html"
	else
		echo "demo: no dashboard (no $state/dashboard/index.html)"
	fi
	if [ "$n" = 0 ]; then
		echo "demo: nothing recorded in $state: no commit was built" >&2
		return 1
	fi
	if [ "$errors" != 0 ]; then
		echo "demo: $errors cells ERROR: the farm or the host failed" \
			"there, not a kernel (see 'hvmatrix results --state" \
			"$state')" >&2
		return 1
	fi
}

if [ "${1:-}" = --summary ]; then
	summary
	exit
fi
bash tools/setup.sh
if [ -n "${HVMATRIX_BIN:-}" ]; then
	# An installed hvmatrix looks for Xen and dom0 in its own cache:
	# point it at the ones setup.sh made here.
	export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top/cache/xen}
	export HVMATRIX_DOM0=${HVMATRIX_DOM0:-$(cat cache/dom0.path)}
	export HVMATRIX_HYPERVISORS_DIR=${HVMATRIX_HYPERVISORS_DIR:-$top/cache}
fi
echo "demo: making the demo kernel tree (once; about a minute)" >&2
tree=$(sh images/kernels/make-tree.sh "$top/cache")
ln -sfn "$tree" cache/demo-tree
rc=0
"$hvm" daemon --matrix matrices/demo.yaml --state "$state" \
	--until-idle || rc=$?
"$hvm" results --state "$state" --commits
# 0: nothing wrong seen; 1: a FAIL or a broken build (findings); 3: an
# ERROR, which the summary reports from the store.
case $rc in
0 | 1 | 3) ;;
*) echo "demo: hvmatrix daemon exited $rc" >&2; exit "$rc" ;;
esac
summary
