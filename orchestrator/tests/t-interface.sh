#!/usr/bin/env bash
# Integration: two real kernels built from Debian's linux-source-6.1 (see
# images/kernels/build-test-kernels.sh): a good tiny kernel, and the same
# kernel broken only in VMware platform setup. The broken one must FAIL in
# the VMware cell alone, found by the silence watchdog (it dies before its
# console is up), long before the timeout; everything else PASSes.
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
matrix=$FIXTURES/matrix-interface.yaml

for k in good broken; do
	rc=0
	"$HVM" boot --kernel "$(eval echo \$$k)" --matrix "$matrix" --jobs 2 \
		--json > "$TMP/$k.json" 2> "$TMP/$k.progress" || rc=$?
	sed 's/^/# /' "$TMP/$k.progress"
	eval "rc_$k=$rc"
done
verdicts() { jq -r '[.[] | "\(.cell)=\(.verdict)"] | join(" ")' "$TMP/$1.json"; }

expect_eq "good kernel: exit 0" "$rc_good" 0
expect_eq "good kernel: PASS in every cell" "$(verdicts good)" \
	"pc-old=PASS q35=PASS microvm=PASS vmware=PASS xen-pv-dom0=PASS"
expect_eq "vmware-broken kernel: exit 1" "$rc_broken" 1
expect_eq "vmware-broken kernel: FAIL in the VMware cell only" \
	"$(verdicts broken)" \
	"pc-old=PASS q35=PASS microvm=PASS vmware=FAIL xen-pv-dom0=PASS"
check "vmware-broken kernel: the silence watchdog found it" \
	contains "$(jq -r '.[] | select(.cell == "vmware") | .reason' \
		"$TMP/broken.json")" "no console output for 15 s"
check "vmware-broken kernel: in seconds, not at the 300 s timeout" \
	test "$(jq -r '.[] | select(.cell == "vmware") | .duration_s | floor' \
		"$TMP/broken.json")" -lt 120
check "the two kernels are told apart in the store" \
	test "$("$HVM" results --json | jq -r '[.[].kernel_id] | unique | length')" = 2
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
