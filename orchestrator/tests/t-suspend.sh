#!/usr/bin/env bash
# Integration: the suspend probe of libxl cells. The agent in a Xen 4.17
# dom0 (nested in QEMU TCG) saves each guest that asks through libxenlight
# to a file, destroys it, restores it and tells it to go on. The good test
# kernel PASSes as PV and PVH guest and runs its smp probe again after the
# restore; xen-resume-broken (a panic in the resume half of Xen's suspend
# path) FAILs exactly there, naming the suspend probe, yet PASSes a
# boot-only cell; a guest whose saved memory does not fit dom0 is ERROR
# (the farm's limit), whatever the kernel. Prints what suspend costs.
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
	"$top_builddir/cache" 2>/dev/null | grep '/xen-resume-broken\.bzImage$')
if [ ! -s "$broken" ]; then
	echo "not ok 1 - no xen-resume-broken test kernel"
	exit 99
fi
matrix=$FIXTURES/matrix-suspend.yaml

for k in good broken; do
	rc=0
	"$HVM" boot --kernel "${!k}" --matrix "$matrix" --json \
		> "$TMP/$k.json" 2> "$TMP/$k.progress" || rc=$?
	sed 's/^/# /' "$TMP/$k.progress"
	eval "rc_$k=$rc"
done
# field KERNEL CELL FIELD
field() { jq -r --arg c "$2" ".[] | select(.cell == \$c) | .$3" "$TMP/$1.json"; }
# text KERNEL CELL: the run's console log
text() { log_text "$(field "$1" "$2" log)" | tr -d '\r'; }

expect_eq "good kernel: exit 3 (the too-big guest is ERROR, no FAIL)" \
	"$rc_good" 3
for c in suspend-pv suspend-pvh; do
	expect_eq "good kernel, $c: PASS" "$(field good $c verdict)" PASS
	text good $c > "$TMP/good-$c.log"
	n=$(field good $c nonce)
	check "... its log shows the save and the restore, in that order" \
		awk -v job="$c@$n" '
			index($0, "hvmatrix-agent: suspend job=" job " saved bytes=") == 1 { s = NR }
			index($0, "hvmatrix-agent: suspend job=" job " restored seconds=") == 1 { r = NR }
			END { exit !(s && r > s) }' "$TMP/good-$c.log"
	check "... then the guest's post-resume line" \
		awk -v n="$n" '
			/^hvmatrix-agent: suspend job=.* restored / { r = 1 }
			r && $0 ~ "^HVMATRIX-PROBE nonce=" n " name=suspend result=pass .*detail=resumed$" { p = 1 }
			END { exit !p }' "$TMP/good-$c.log"
	check "... and its smp probe again, in the restored guest" \
		grep -q "^HVMATRIX-PROBE nonce=$n name=suspend\.smp result=pass " \
		"$TMP/good-$c.log"
done
expect_eq "good kernel, boot-pv (no probes): PASS" \
	"$(field good boot-pv verdict)" PASS
text good boot-pv > "$TMP/good-boot-pv.log"
check "... and was never suspended" \
	sh -c "! grep -q 'result=ready\\|^hvmatrix-agent: suspend ' \
		'$TMP/good-boot-pv.log'"
expect_eq "good kernel, suspend-too-big: ERROR (the save, not the kernel)" \
	"$(field good suspend-too-big verdict)" ERROR
check "... naming the save that failed" \
	contains "$(field good suspend-too-big reason)" "saving the guest failed"

expect_eq "resume-broken kernel: exit 1 (FAIL)" "$rc_broken" 1
for c in suspend-pv suspend-pvh; do
	expect_eq "resume-broken kernel, $c: FAIL" \
		"$(field broken $c verdict)" FAIL
	check "... naming the suspend probe" \
		contains "$(field broken $c reason)" "probe suspend"
	check "... its own panic in the resume path the decisive line" \
		contains "$(field broken $c line)" "broken Xen resume"
	text broken $c > "$TMP/broken-$c.log"
	check "... after a restore that worked" \
		grep -q "^hvmatrix-agent: suspend job=$c@.* restored " \
		"$TMP/broken-$c.log"
	check "... and before the guest said it resumed" \
		sh -c "! grep -q 'name=suspend result=pass' '$TMP/broken-$c.log'"
done
expect_eq "resume-broken kernel, boot-pv (boot only): PASS" \
	"$(field broken boot-pv verdict)" PASS
expect_eq "resume-broken kernel, suspend-too-big: ERROR as well" \
	"$(field broken suspend-too-big verdict)" ERROR

# What suspend costs: the agent's own figures and the runs' durations.
for c in suspend-pv suspend-pvh; do
	echo "# measure: $c: $(grep -o 'saved bytes=[0-9]* seconds=[0-9.]*\|restored seconds=[0-9.]*' \
		"$TMP/good-$c.log" | tr '\n' ' ')run $(field good $c duration_s) s" \
		"(boot-pv, no probes: $(field good boot-pv duration_s) s)"
done
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
