#!/usr/bin/env bash
# Integration: three real kernels built from Debian's linux-source-6.1
# (images/kernels/build-test-kernels.sh): a good tiny kernel, the same
# kernel broken only in VMware platform setup, and one broken only in Xen
# PV setup. Each broken one must FAIL in its own interface's cell alone
# (the VMware one found by the silence watchdog: it dies before its console
# is up), long before the timeout; everything else PASSes.
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
check "vmware-broken kernel: the silence watchdog found it" \
	contains "$(jq -r '.[] | select(.cell == "vmware") | .reason' \
		"$TMP/broken.json")" "no console output for 15 s"
check "vmware-broken kernel: in seconds, not at the 300 s timeout" \
	test "$(jq -r '.[] | select(.cell == "vmware") | .duration_s | floor' \
		"$TMP/broken.json")" -lt 120
expect_eq "xenpv-broken kernel: exit 1" "$rc_xenpv" 1
expect_eq "xenpv-broken kernel: FAIL in Xen PV only (PVH still boots)" \
	"$(verdicts xenpv)" \
	"pc-old=PASS q35=PASS microvm=PASS vmware=PASS xen-pv-dom0=FAIL xen-pvh-dom0=PASS"
check "xenpv-broken kernel: in seconds, not at the timeout" \
	test "$(jq -r '.[] | select(.cell == "xen-pv-dom0") | .duration_s | floor' \
		"$TMP/xenpv.json")" -lt 120
check "the three kernels are told apart in the store" \
	test "$("$HVM" results --json | jq -r '[.[].kernel_id] | unique | length')" = 3
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
