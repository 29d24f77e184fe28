#!/usr/bin/env bash
# Integration: a push that breaks Xen PV guests, found, confirmed and
# bisected by the daemon in a libxl PV guest cell exactly as in the Xen PV
# dom0 cell of the same interface. Confirmations and bisection steps of a
# libxl cell run several guests of one cell in one dom0 boot: each must be
# judged by its own guest, or a good midpoint looks flaky and the
# bisection gives up (the bug this test was written for).
#   push 1: c1 good.
#   push 2 (test: tips): c2 good, c3 breaks Xen PV, c4, c5 (tip) broken too.
. "$(dirname "$0")/lib.sh"
test_kernels
[ -r "$xenpv" ] || { echo "not ok 1 - no Xen-PV-broken kernel"; exit 99; }
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
if [ ! -f "$HVMATRIX_XEN_DIR/4.17/complete" ] ||
   [ ! -s "$(cat "$top_builddir/cache/dom0-4.17.path" 2>/dev/null)" ]; then
	echo "not ok 1 - no Xen 4.17 build or dom0 image (tools/setup.sh)"
	exit 99
fi

tree=$TMP/tree
kernel_tree "$tree"
commit() { kernel_commit "$tree" "$@"; }
cells="  - name: pv-dom0
    backend: xen
    xen: \"4.17\"
    cpu: max,-smap,-smep,-pku,-la57
    memory: 1024
    expect: \"Hypervisor detected: Xen PV\"
  - name: libxl-pv
    backend: xen-libxl
    xen: \"4.17\"
    guest: pv
    cpu: max,-smap,-smep,-pku,-la57
    expect: \"Hypervisor detected: Xen PV\""
tips_matrix "$tree" "$cells" > "$TMP/m.yaml"
state=$TMP/state
daemon() {
	"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 \
		--until-idle > "$TMP/daemon$1.log" 2>&1
}
q() { sqlite3 "$state/hvmatrix.db" "$1"; }

c1=$(commit "good" "$good")
daemon 1 || true
expect_eq "push 1: the tip passes in both cells" \
	"$("$HVM" results --json --state "$state" | jq -r '[.[] | .verdict] | unique | join(" ")')" PASS

c2=$(commit "harmless" "$good")
c3=$(commit "xen: break PV setup" "$xenpv")
c4=$(commit "more on top" "$xenpv")
c5=$(commit "tip" "$xenpv")
daemon 2 || true
grep -E 'FAIL|ERROR|bisect|flaky' "$TMP/daemon2.log" | sed 's/^/# /' | head -40
"$HVM" regressions --state "$state" --matrix "$TMP/m.yaml" --all --json > "$TMP/r.json"
sed 's/^/# /' "$TMP/r.json" | head -40
cellreg() { jq -r "[.[] | select(.cell == \"$1\")] | .[0] | $2" "$TMP/r.json"; }
for cell in pv-dom0 libxl-pv; do
	expect_eq "$cell: an open regression (not flaky)" "$(cellreg $cell .status)" open
	expect_eq "$cell: bisected to the commit that broke Xen PV" \
		"$(cellreg $cell .first_bad.commit)" "$c3"
	expect_eq "$cell: its last good commit is its parent" \
		"$(cellreg $cell .last_good.commit)" "$c2"
done
expect_eq "the libxl cell's answer is the dom0 cell's" \
	"$(cellreg libxl-pv .first_bad.commit)" "$(cellreg pv-dom0 .first_bad.commit)"
expect_eq "no FAIL recorded for the good commits c1, c2 in the libxl cell" \
	"$(q "SELECT count(*) FROM runs WHERE cell = 'libxl-pv' AND verdict = 'FAIL' AND commit_id IN ('$c1', '$c2')")" 0
n_libxl=$(q "SELECT count(*) FROM runs WHERE cell = 'libxl-pv'")
expect_eq "every libxl run has a log of its own ($n_libxl runs)" \
	"$(q "SELECT count(DISTINCT log_path) FROM runs WHERE cell = 'libxl-pv'")" "$n_libxl"
bad=0
while IFS='|' read -r id verdict nonce log; do
	text=$(log_text "$log")
	case $verdict in
	PASS) contains "$text" "HVMATRIX-OK nonce=$nonce" || bad=$((bad + 1)) ;;
	FAIL) contains "$text" "begin job=libxl-pv@$nonce " || bad=$((bad + 1)) ;;
	esac
done < <(q "SELECT id, verdict, nonce, log_path FROM runs WHERE cell = 'libxl-pv'")
expect_eq "each libxl run's verdict is its own guest's (PASS: its marker; FAIL: its guest ran)" "$bad" 0
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
