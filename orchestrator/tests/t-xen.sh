#!/usr/bin/env bash
# Integration: Xen 4.17 (Debian's real hypervisor) nested in QEMU TCG with
# a real kernel as PV and PVH dom0; Xen's crash lines end runs at once;
# farm trouble (a nested-emulation gap, a missing Xen build) is ERROR.
. "$(dirname "$0")/lib.sh"
need_kernel
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
if [ ! -f "$HVMATRIX_XEN_DIR/4.17/complete" ]; then
	echo "not ok 1 - no Xen 4.17 build in $HVMATRIX_XEN_DIR (tools/setup.sh)"
	exit 99
fi

rc=0
"$HVM" boot --kernel "$KERNEL" --matrix "$FIXTURES/matrix-xen.yaml" \
	--jobs 2 --json > "$TMP/out.json" 2> "$TMP/progress" || rc=$?
sed 's/^/# /' "$TMP/progress"
expect_eq "exit code 1 (FAIL cells present)" "$rc" 1
field() { jq -r --arg c "$1" ".[] | select(.cell == \$c) | .$2" "$TMP/out.json"; }
secs() { field "$1" duration_s | cut -d. -f1; }

expect_eq "pass-pv-dom0: PASS" "$(field pass-pv-dom0 verdict)" PASS
check "pass-pv-dom0: Xen itself booted (its banner is in the log)" \
	grep -q "(XEN) Xen version 4.17" <(log_text "$(field pass-pv-dom0 log)")
check "pass-pv-dom0: the kernel ran as Xen PV dom0" \
	grep -q "hvmatrix-init: .*hypervisor=Xen PV" <(log_text "$(field pass-pv-dom0 log)")
check "progress names the Xen build's version" \
	grep -q "(Xen 4.17.7" "$TMP/progress"
expect_eq "pass-pvh-dom0: PASS" "$(field pass-pvh-dom0 verdict)" PASS
check "pass-pvh-dom0: the kernel booted as PVH" \
	grep -q "Booting kernel on Xen PVH" <(log_text "$(field pass-pvh-dom0 log)")

expect_eq "fail-dom0-panic: FAIL" "$(field fail-dom0-panic verdict)" FAIL
check "fail-dom0-panic: decided by the panic or Xen's line" \
	bash -c 'case "$1" in *"Kernel panic"*|*"Hardware Dom0"*) ;; *) exit 1;; esac' \
	_ "$(field fail-dom0-panic line)"
check "fail-dom0-panic: in seconds (<120 s of 600)" \
	test "$(secs fail-dom0-panic)" -lt 120

expect_eq "fail-xen-dom0-crashed: FAIL" "$(field fail-xen-dom0-crashed verdict)" FAIL
check "fail-xen-dom0-crashed: Xen's crash line decided it" \
	contains "$(field fail-xen-dom0-crashed line)" "Hardware Dom0 crashed"
check "fail-xen-dom0-crashed: in seconds (<120 s of 600)" \
	test "$(secs fail-xen-dom0-crashed)" -lt 120

expect_eq "error-nested-svm-gap: ERROR, not the kernel's FAIL" \
	"$(field error-nested-svm-gap verdict)" ERROR
check "error-nested-svm-gap: decided on Xen's emulation failure" \
	contains "$(field error-nested-svm-gap line)" "SVM Insn len emulation failed"
check "error-nested-svm-gap: in seconds (<120 s of 600)" \
	test "$(secs error-nested-svm-gap)" -lt 120

expect_eq "error-missing-xen-build: ERROR" \
	"$(field error-missing-xen-build verdict)" ERROR
check "error-missing-xen-build: says how to get it" \
	contains "$(field error-missing-xen-build reason)" "fetch-xen.sh"

expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
