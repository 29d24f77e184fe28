#!/usr/bin/env bash
# Integration: drift, silent feature loss, found and bisected by the
# daemon with real kernels built from linux-source-6.1 (build-test-
# kernels.sh: good, and clocksource-drift, whose xen clocksource is rated
# below every other: it boots everywhere but no longer picks the paravirt
# clock under Xen) booted under real QEMU and real nested Xen. The tree is
# a tiny git repository whose make installs the kernel its commit names
# (kernel_tree in lib.sh).
#
# With `test: tips`, the matrix one plain QEMU cell and one Xen 4.17 PV
# dom0 cell:
#  1. push 1 (c1, good): tested, passes: the fingerprints to compare with.
#  2. push 2 (c2 good, c3 the clocksource break, c4 on top): only c4 is
#     tested; it PASSes everywhere, but in the Xen cell its clocksource is
#     no longer xen: a drift, bisected to c3 exactly, never a FAIL and
#     never in the QEMU cell.
# The Xen cell boots dom0 with tsc=unstable: under nested TCG the clock
# watchdog otherwise flips dom0 between tsc and xen from run to run (seen
# here), and what this cell watches is the paravirt clock.
. "$(dirname "$0")/lib.sh"

export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
if [ ! -f "$HVMATRIX_XEN_DIR/4.17/complete" ]; then
	echo "not ok 1 - no Xen 4.17 build in $HVMATRIX_XEN_DIR (tools/setup.sh)"
	exit 99
fi
list=$(sh "$top_srcdir/images/kernels/build-test-kernels.sh" \
	"$top_builddir/cache" 2> "$TMP/build.err") || {
	sed 's/^/# /' "$TMP/build.err"
	echo "not ok 1 - cannot build the test kernels"
	exit 99
}
good=$(echo "$list" | sed -n 1p)
drift=$(echo "$list" | grep '/clocksource-drift\.bzImage$')
[ -r "$good" ] && [ -r "$drift" ] ||
	{ echo "not ok 1 - no good or clocksource-drift kernel"; exit 99; }

tree=$TMP/tree
kernel_tree "$tree"
commit() { kernel_commit "$tree" "$@"; }	# SUBJECT KERNEL

cells="  - name: qemu
    expect: hypervisor=none
    probes: [smp]
  - name: xen-pv-dom0
    backend: xen
    xen: \"4.17\"
    cpu: max,-smap,-smep,-pku,-la57
    memory: 1024
    cmdline: tsc=unstable
    expect: \"Hypervisor detected: Xen PV\"
    probes: [smp]"
tips_matrix "$tree" "$cells" > "$TMP/m.yaml"
state=$TMP/state
daemon() {
	"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 \
		--until-idle > "$TMP/daemon$1.log" 2>&1
}
regressions() { "$HVM" regressions --state "$state" --matrix "$TMP/m.yaml" --json "$@"; }
db() { sqlite3 "$state/hvmatrix.db" "$1"; }

# 1. The fingerprints to compare with.
c1=$(commit "good" "$good")
daemon 1 || true
expect_eq "push 1: the tip passes in both cells" \
	"$("$HVM" results --json --state "$state" | jq -r '[.[] | .verdict] | unique | join(" ")')" PASS
expect_eq "push 1: both runs recorded a fingerprint" \
	"$(db "SELECT count(*) FROM runs WHERE fingerprint <> ''")" 2
expect_eq "push 1: the Xen dom0 runs on the paravirt clock" \
	"$(db "SELECT json_extract(fingerprint, '\$.clocksource') FROM runs WHERE cell = 'xen-pv-dom0'")" xen

# 2. The break in the middle of a push of three.
c2=$(commit "harmless" "$good")
c3=$(commit "x86/xen: rate the xen clocksource below the others" "$drift")
c4=$(commit "more on top" "$drift")
daemon 2 || true
regressions --all > "$TMP/r.json"
sed 's/^/# /' "$TMP/r.json" | head -60
one() { jq -r ".[0] | $1" "$TMP/r.json"; }
expect_eq "one finding, in the Xen cell only" \
	"$(jq -r '[.[] | .cells[]] | unique | join(" ")' "$TMP/r.json")" xen-pv-dom0
expect_eq "its status is drift (not open: nothing failed)" "$(one .status)" drift
expect_eq "its changes name the clocksource, from xen to another" \
	"$(one '[.changes[] | select(.field == "clocksource") | "\(.before) \(.after != "xen" and .after != null)"] | join(",")')" \
	"xen true"
expect_eq "bisected to the exact commit that made the change" \
	"$(one .first_bad.commit)" "$c3"
expect_eq "its last good commit is its parent" "$(one .last_good.commit)" "$c2"
expect_eq "the bisection is over" "$(one .bisect.running)" false
check "the culprit's after-value was reproduced (confirmation runs)" \
	test "$(one .runs.fail)" -ge 3
expect_eq "no run FAILed: a drift is never a FAIL" \
	"$(db "SELECT count(*) FROM runs WHERE verdict <> 'PASS'")" 0
expect_eq "bisection runs only the Xen cell" \
	"$(db "SELECT group_concat(DISTINCT cell) FROM runs WHERE purpose = 'bisect'")" xen-pv-dom0
# tsc-early or tsc is only a matter of when the probe looked (drift
# reads them as one); what matters is no drift in the QEMU cell.
expect_eq "the QEMU cell's clocksource never changed (tsc-early read as tsc)" \
	"$(db "SELECT count(DISTINCT replace(json_extract(fingerprint, '\$.clocksource'), 'tsc-early', 'tsc')) FROM runs WHERE cell = 'qemu'")" 1
expect_eq "regressions without --all lists the drift" \
	"$(regressions | jq -r '[.[] | .status] | join(" ")')" drift
"$HVM" regressions --state "$state" --matrix "$TMP/m.yaml" > "$TMP/r.txt"
sed 's/^/# /' "$TMP/r.txt"
check "the text names the change" grep -q "changes    clocksource: xen -> " "$TMP/r.txt"
"$HVM" dashboard --state "$state" --out "$TMP/site" > "$TMP/dash.out" 2>&1
check "the dashboard's regressions page lists the drift" \
	grep -q "clocksource: xen -&gt; " "$TMP/site/regressions.html"
check "... and so does the Xen cell's page" \
	grep -q "clocksource: xen -&gt; " "$TMP/site/cell/xen-pv-dom0.html"
check "... but not the QEMU cell's" \
	sh -c "! grep -q 'clocksource: xen' '$TMP/site/cell/qemu.html'"
expect_eq "nothing of this test is left running" "$(leftovers)" ""
finish
