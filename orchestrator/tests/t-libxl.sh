#!/usr/bin/env bash
# Integration: the kernel under test as PV and PVH guests created through
# the real libxenlight by hvmatrix's agent, inside Debian's dom0 under
# Xen 4.17 nested in QEMU TCG; several guests share one dom0 boot and a
# crashing guest neither hides the next one nor is blamed on the farm.
. "$(dirname "$0")/lib.sh"
need_kernel
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
dom0=${HVMATRIX_DOM0_4_17:-${HVMATRIX_DOM0:-$(cat \
	"$top_builddir/cache/dom0-4.17.path" \
	"$top_builddir/cache/dom0.path" 2>/dev/null | head -n 1)}}
if [ ! -f "$HVMATRIX_XEN_DIR/4.17/complete" ] || [ ! -s "$dom0" ]; then
	echo "not ok 1 - no Xen 4.17 build or dom0 image (tools/setup.sh)"
	exit 99
fi

rc=0
"$HVM" boot --kernel "$KERNEL" --matrix "$FIXTURES/matrix-libxl.yaml" \
	--json > "$TMP/out.json" 2> "$TMP/progress" || rc=$?
sed 's/^/# /' "$TMP/progress"
expect_eq "exit code 1 (one guest FAILs)" "$rc" 1
field() { jq -r --arg c "$1" ".[] | select(.cell == \$c) | .$2" "$TMP/out.json"; }

expect_eq "pass-libxl-pv: PASS" "$(field pass-libxl-pv verdict)" PASS
log=$TMP/pass-libxl-pv.log
log_text "$(field pass-libxl-pv log)" > "$log"
check "the agent created the guest through libxl (its ready line)" \
	grep -q "^hvmatrix-agent: ready jobs=3" "$log"
check "pass-libxl-pv: the guest's marker sits inside its job" \
	awk -v n="$(field pass-libxl-pv nonce)" '
		{ sub(/\r+$/, "") }
		index($0, "hvmatrix-agent: begin job=pass-libxl-pv@" n " ") == 1 { in_job = 1 }
		index($0, "hvmatrix-agent: end job=pass-libxl-pv@" n " ") == 1 { in_job = 0 }
		in_job && $0 == "HVMATRIX-OK nonce=" n { found = 1 }
		END { exit !found }' "$log"
check "pass-libxl-pv: the guest reported Xen PV" \
	grep -q "hvmatrix-init: .*hypervisor=Xen PV" "$log"

expect_eq "fail-libxl-pv-panic: FAIL (the guest's fault)" \
	"$(field fail-libxl-pv-panic verdict)" FAIL
check "fail-libxl-pv-panic: the guest's panic line decided it" \
	contains "$(field fail-libxl-pv-panic line)" "Kernel panic"

expect_eq "pass-libxl-pvh: PASS after the crashed guest" \
	"$(field pass-libxl-pvh verdict)" PASS
expect_eq "each of the three guests has a log of its own" \
	"$(jq -r '[.[].log] | unique | length' "$TMP/out.json")" 3
log_text "$(field pass-libxl-pvh log)" > "$TMP/pvh.log"
check "... yet they shared one dom0 boot (its ready line in each)" \
	grep -q "^hvmatrix-agent: ready jobs=3" "$TMP/pvh.log"
check "the PVH guest's log leaves out the crashed guest's panic" \
	sh -c "! grep -q 'Kernel panic' '$TMP/pvh.log'"
check "... and says another run's guest ran there" \
	grep -q "^--- hvmatrix: another run's guest (job=fail-libxl-pv-panic@" "$TMP/pvh.log"
check "each guest's time is its own, not the whole boot's" \
	test "$(field pass-libxl-pv duration_s | cut -d. -f1)" -lt \
	     "$(jq -r '[.[].duration_s] | add | floor' "$TMP/out.json")"
expect_eq "every guest is recorded with the time its dom0 boot started" \
	"$("$HVM" results --json | jq '[.[] | select(.started_at < 1e9)] | length')" 0
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
