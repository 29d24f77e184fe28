#!/usr/bin/env bash
# The main job on the built-in default: make a real kernel git tree (Debian's
# linux-source-6.1 with demo commits on top: one harmless, one that breaks
# the VMware interface, one that does not compile, and their revert), then
# run the daemon over matrices/default.yaml until its queue is empty: every
# commit is built (incrementally after the first) and booted in every cell,
# and the dashboard is written.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash tools/setup.sh
echo "demo: making the demo kernel tree (once; about a minute)" >&2
tree=$(sh images/kernels/make-tree.sh "$top/cache")
ln -sfn "$tree" cache/demo-tree
state=${HVMATRIX_STATE:-$top/hvmatrix-state}
rc=0
./hvmatrix daemon --matrix matrices/default.yaml --state "$state" \
	--until-idle || rc=$?
./hvmatrix results --state "$state" --commits
case $rc in
0) echo "demo: every cell PASS or SKIP" ;;
1) echo "demo: the daemon found FAILs or broken builds (see above): the demo commits break on purpose" ;;
*) echo "demo: hvmatrix daemon exited $rc" ;;
esac
echo "demo: dashboard: $state/dashboard/index.html"
# A FAIL or BLOCKED is a finding, not a broken demo; anything else is.
[ "$rc" -le 1 ]
