#!/usr/bin/env bash
# Integration: the kernel under test as a Xen HVM guest created through
# libxenlight (hvmloader, SeaBIOS and the release's qemu-system-xen in a
# Xen 4.17 dom0 nested in QEMU TCG), its PV-on-HVM drivers running. The
# good test kernel PASSes as HVM guest; xen-hvm-broken (a panic in
# xen_hvm_guest_init, taken by HVM guests only) FAILs as HVM guest on its
# panic, and PASSes as PV and PVH guests of the same dom0 boot. Two dom0
# boots in all, one per kernel. Prints each HVM guest's time.
. "$(dirname "$0")/lib.sh"
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
dom0=${HVMATRIX_DOM0_4_17:-${HVMATRIX_DOM0:-$(cat \
	"$top_builddir/cache/dom0-4.17.path" \
	"$top_builddir/cache/dom0.path" 2>/dev/null | head -n 1)}}
if [ ! -f "$HVMATRIX_XEN_DIR/4.17/complete" ] || [ ! -s "$dom0" ]; then
	echo "not ok 1 - no Xen 4.17 build or dom0 image (tools/setup.sh)"
	exit 99
fi
test_kernels
broken=$(sh "$top_srcdir/images/kernels/build-test-kernels.sh" \
	"$top_builddir/cache" 2>/dev/null | grep '/xen-hvm-broken\.bzImage$')
if [ ! -s "$broken" ]; then
	echo "not ok 1 - no xen-hvm-broken test kernel"
	exit 99
fi
matrix=$FIXTURES/matrix-libxl-hvm.yaml

boot() {
	local k=$1 rc=0
	shift
	"$HVM" boot --kernel "${!k}" --matrix "$matrix" "$@" --json \
		> "$TMP/$k.json" 2> "$TMP/$k.progress" || rc=$?
	sed 's/^/# /' "$TMP/$k.progress"
	eval "rc_$k=$rc"
}
boot good --cell hvm-libxl-hvm
boot broken
# field KERNEL CELL FIELD
field() { jq -r --arg c "$2" ".[] | select(.cell == \$c) | .$3" "$TMP/$1.json"; }
text() { log_text "$(field "$1" "$2" log)" | tr -d '\r'; }

expect_eq "good kernel: exit 0" "$rc_good" 0
expect_eq "good kernel, HVM guest: PASS ($(field good hvm-libxl-hvm reason))" \
	"$(field good hvm-libxl-hvm verdict)" PASS
text good hvm-libxl-hvm > "$TMP/good.log"
n=$(field good hvm-libxl-hvm nonce)
check "... created as an HVM guest by the agent" \
	grep -q "^hvmatrix-agent: begin job=hvm-libxl-hvm@$n type=hvm\$" \
	"$TMP/good.log"
check "... its PV-on-HVM setup ran (Xen HVM as the paravirt platform)" \
	grep -q "Booting paravirtualized kernel on Xen HVM" "$TMP/good.log"
check "... and its payload reached the marker" \
	grep -q "^HVMATRIX-OK nonce=$n\$" "$TMP/good.log"

expect_eq "xen-hvm-broken: exit 1 (a FAIL)" "$rc_broken" 1
expect_eq "xen-hvm-broken, HVM guest: FAIL" \
	"$(field broken hvm-libxl-hvm verdict)" FAIL
check "... decided by its panic in the Xen HVM guest init" \
	contains "$(field broken hvm-libxl-hvm line)" \
	"broken Xen HVM guest init"
expect_eq "xen-hvm-broken, PV guest: PASS" \
	"$(field broken hvm-libxl-pv verdict)" PASS
expect_eq "xen-hvm-broken, PVH guest: PASS" \
	"$(field broken hvm-libxl-pvh verdict)" PASS
check "the three guests shared one dom0 boot" \
	sh -c "zstd -dcqf -- '$(field broken hvm-libxl-pv log)' |
		grep -q '^hvmatrix-agent: ready jobs=3'"
echo "# HVM guest, good kernel: $(field good hvm-libxl-hvm duration_s) s" \
	"(its job, domain build to end); broken: $(field broken hvm-libxl-hvm duration_s) s"
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
