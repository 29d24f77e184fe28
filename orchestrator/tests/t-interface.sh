#!/usr/bin/env bash
# Integration: three real kernels built from Debian's linux-source-6.1
# (images/kernels/build-test-kernels.sh): a good tiny kernel, the same
# kernel broken only in VMware platform setup, and one broken only in Xen
# PV setup. Each broken one must FAIL in its own interface's cell alone,
# judged by its own panic message (the VMware one dies before its console
# driver is up: the early console prints it; the Xen PV one before it has
# read its command line: its log buffer is read from the guest's memory),
# long before the timeout; everything else PASSes.
. "$(dirname "$0")/lib.sh"
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
kernels=$(sh "$top_srcdir/images/kernels/build-test-kernels.sh" \
	"$top_builddir/cache" 2> "$TMP/build.err") || {
	sed 's/^/# /' "$TMP/build.err"
	echo "not ok 1 - cannot build the test kernels"
	exit 99
}
good=$(echo "$kernels" | sed -n 1p)
broken=$(echo "$kernels" | sed -n 2p)
xenpv=$(echo "$kernels" | sed -n 3p)
matrix=$FIXTURES/matrix-interface.yaml

for k in good broken xenpv; do
	rc=0
	"$HVM" boot --kernel "$(eval echo \$$k)" --matrix "$matrix" --jobs 2 \
		--json > "$TMP/$k.json" 2> "$TMP/$k.progress" || rc=$?
	sed 's/^/# /' "$TMP/$k.progress"
	eval "rc_$k=$rc"
done
verdicts() { jq -r '[.[] | "\(.cell)=\(.verdict)"] | join(" ")' "$TMP/$1.json"; }

expect_eq "good kernel: exit 0" "$rc_good" 0
expect_eq "good kernel: PASS in every cell" "$(verdicts good)" \
	"pc-old=PASS q35=PASS microvm=PASS vmware=PASS xen-pv-dom0=PASS xen-pvh-dom0=PASS"
expect_eq "vmware-broken kernel: exit 1" "$rc_broken" 1
expect_eq "vmware-broken kernel: FAIL in the VMware cell only" \
	"$(verdicts broken)" \
	"pc-old=PASS q35=PASS microvm=PASS vmware=FAIL xen-pv-dom0=PASS xen-pvh-dom0=PASS"
# It panics before its console driver is up: the early console prints
# the panic, which decides at once, before the 15 s silence watchdog.
expect_eq "vmware-broken kernel: judged by the kernel's own panic (early console)" \
	"$(jq -r '.[] | select(.cell == "vmware") | "\(.reason): \(.line | sub("^\\[[ 0-9.]+\\] "; ""))"' \
		"$TMP/broken.json")" \
	"kernel panic: Kernel panic - not syncing: hvmatrix test: broken VMware platform setup"
check "vmware-broken kernel: before the silence watchdog (15 s)" \
	test "$(jq -r '.[] | select(.cell == "vmware") | .duration_s | floor' \
		"$TMP/broken.json")" -lt 15
expect_eq "xenpv-broken kernel: exit 1" "$rc_xenpv" 1
expect_eq "xenpv-broken kernel: FAIL in Xen PV only (PVH still boots)" \
	"$(verdicts xenpv)" \
	"pc-old=PASS q35=PASS microvm=PASS vmware=PASS xen-pv-dom0=FAIL xen-pvh-dom0=PASS"
# It dies before it reads its command line: no console, early or not,
# prints a word; its log buffer, read from the guest's RAM, has the panic.
expect_eq "xenpv-broken kernel: the panic read from dom0's memory decides the line" \
	"$(jq -r '.[] | select(.cell == "xen-pv-dom0") | .line' "$TMP/xenpv.json")" \
	"Kernel panic - not syncing: hvmatrix test: broken Xen PV setup"
check "xenpv-broken kernel: and the reason says where it was read" \
	contains "$(jq -r '.[] | select(.cell == "xen-pv-dom0") | .reason' \
		"$TMP/xenpv.json")" "read from the guest's memory (the console: Xen: dom0 crashed)"
check "xenpv-broken kernel: in seconds, not at the timeout" \
	test "$(jq -r '.[] | select(.cell == "xen-pv-dom0") | .duration_s | floor' \
		"$TMP/xenpv.json")" -lt 120
check "the three kernels are told apart in the store" \
	test "$("$HVM" results --json | jq -r '[.[].kernel_id] | unique | length')" = 3
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
