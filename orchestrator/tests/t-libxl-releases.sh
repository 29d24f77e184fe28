#!/usr/bin/env bash
# Integration: libxl guest cells under Xen 4.14 and 4.20, nested in QEMU
# TCG, each driven by the toolstack of its own release: a dom0 image per
# release (images/xen/build-dom0.sh --release R, tools/setup.sh), with the
# agent compiled against that release's libxenlight. The good test kernel
# PASSes as PV and PVH guest of both; xenpv-broken (a panic in Xen PV
# setup) FAILs as PV guest only, of both. A release whose dom0 image is
# not built is ERROR naming the command that builds it.
. "$(dirname "$0")/lib.sh"
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
for r in 4.14 4.20; do
	v=HVMATRIX_DOM0_${r/./_}
	dom0=${!v:-$(cat "$top_builddir/cache/dom0-$r.path" 2>/dev/null)}
	if [ ! -f "$HVMATRIX_XEN_DIR/$r/complete" ] || [ ! -s "$dom0" ]; then
		echo "not ok 1 - no Xen $r build or dom0 image (tools/setup.sh)"
		exit 99
	fi
done
test_kernels
matrix=$FIXTURES/matrix-libxl-releases.yaml

# A release whose dom0 is not built: ERROR at once, no boot.
rc=0
HVMATRIX_DOM0_4_20=$TMP/none.cpio.gz "$HVM" boot --kernel "$good" \
	--matrix "$matrix" --cell libxl-4.20-pv --json > "$TMP/none.json" \
	2> "$TMP/none.progress" || rc=$?
expect_eq "no dom0 for 4.20: exit 3 (ERROR)" "$rc" 3
expect_eq "... the cell is ERROR" "$(jq -r '.[0].verdict' "$TMP/none.json")" \
	ERROR
check "... naming the command that builds it" \
	contains "$(jq -r '.[0].reason' "$TMP/none.json")" \
	"build-dom0.sh --release 4.20"

for k in good xenpv; do
	rc=0
	"$HVM" boot --kernel "${!k}" --matrix "$matrix" --jobs 2 \
		--json > "$TMP/$k.json" 2> "$TMP/$k.progress" || rc=$?
	sed 's/^/# /' "$TMP/$k.progress"
	eval "rc_$k=$rc"
done
verdicts() { jq -r '[.[] | "\(.cell)=\(.verdict)"] | join(" ")' "$TMP/$1.json"; }
field() { jq -r --arg c "$2" ".[] | select(.cell == \$c) | .$3" "$TMP/$1.json"; }
expect_eq "good kernel: exit 0" "$rc_good" 0
expect_eq "good kernel: PASS as PV and PVH guest of 4.14 and 4.20" \
	"$(verdicts good)" \
	"libxl-4.14-pv=PASS libxl-4.14-pvh=PASS libxl-4.20-pv=PASS libxl-4.20-pvh=PASS"
expect_eq "xenpv-broken: exit 1" "$rc_xenpv" 1
expect_eq "xenpv-broken: FAIL as PV guest only, under both releases" \
	"$(verdicts xenpv)" \
	"libxl-4.14-pv=FAIL libxl-4.14-pvh=PASS libxl-4.20-pv=FAIL libxl-4.20-pvh=PASS"
# It panics before its console is up: the agent saw the guest crash.
for r in 4.14 4.20; do
	expect_eq "xenpv-broken: $r's PV guest crashed (the kernel's fault)" \
		"$(field xenpv "libxl-$r-pv" reason)" \
		"guest crashed before the marker"
done

# Each release's guests were created by that release's own toolstack:
# the agent's ready line states the hypervisor libxl reports.
for r in 4.14 4.20; do
	log=$TMP/$r.log
	log_text "$(field good "libxl-$r-pv" log)" > "$log"
	check "$r: the agent's libxl reported Xen $r" \
		grep -aq "^hvmatrix-agent: ready .*xen=$r\." "$log"
	# Each run has its own log (t-libxl-group.sh); one dom0 boot served
	# both: the same agent's ready line, for two guests, in each.
	log_text "$(field good "libxl-$r-pvh" log)" > "$TMP/$r-pvh.log"
	expect_eq "$r: PV and PVH shared one dom0 boot (its ready line in both logs)" \
		"$(grep -a '^hvmatrix-agent: ready ' "$TMP/$r-pvh.log")" \
		"$(grep -a '^hvmatrix-agent: ready jobs=2 ' "$log")"
done
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
