#!/usr/bin/env bash
# Integration: several runs of ONE libxl cell in one nested dom0 boot (as
# the daemon's confirmations and bisection steps make them). Each run is a
# job of its own on the agent's channel ("CELL@NONCE"), judged only by its
# own guest's begin/end, with a console log of its own: the guests of its
# neighbours never decide its verdict and never fill its log.
. "$(dirname "$0")/lib.sh"
test_kernels
[ -r "$coin" ] || { echo "not ok 1 - no coin-flip kernel"; exit 99; }
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
if [ ! -f "$HVMATRIX_XEN_DIR/4.17/complete" ] ||
   [ ! -s "$(cat "$top_builddir/cache/dom0-4.17.path" 2>/dev/null)" ]; then
	echo "not ok 1 - no Xen 4.17 build or dom0 image (tools/setup.sh)"
	exit 99
fi
cell=pass-libxl-pv
group() {	# KERNEL N NAME: N runs of the cell, one dom0 boot
	local rc=0
	"$HVM" boot --kernel "$1" --matrix "$FIXTURES/matrix-libxl.yaml" \
		--cell "$cell" --repeat "$2" --json \
		> "$TMP/$3.json" 2> "$TMP/$3.progress" || rc=$?
	sed 's/^/# /' "$TMP/$3.progress" >&2
	echo "$rc"
}
# own_log JSON I: the text of run I's log
own_log() { log_text "$(jq -r ".[$2].log" "$1")"; }

# 1. The good kernel, 3 runs: 3 PASS, 3 logs, each its own guest's.
rc=$(group "$good" 3 good)
j=$TMP/good.json
# Nested Xen under TCG on a loaded 2-core machine has been seen to fault a
# good guest once (a general protection fault after 55 s, in one CI run of
# three). Such a FAIL must still be that run's own guest's; the group is
# then run once more, as the farm's confirmation would.
if [ "$(jq '[.[] | select(.verdict != "PASS")] | length' "$j")" != 0 ]; then
	for i in 0 1 2; do
		[ "$(jq -r ".[$i].verdict" "$j")" = PASS ] && continue
		echo "# good kernel, run $i: $(jq -r ".[$i] | .verdict + \": \" + .reason + \": \" + .line" "$j")"
		own_log "$j" "$i" > "$TMP/first$i.log"
		check "a good run that did not PASS was decided by its own guest's lines" \
			grep -qF -- "$(jq -r ".[$i].line" "$j" | cut -c1-60)" "$TMP/first$i.log"
	done
	mv "$j" "$TMP/good-first.json"
	rc=$(group "$good" 3 good)
fi
expect_eq "3 runs of one libxl cell: exit 0" "$rc" 0
expect_eq "3 runs, 3 PASS" "$(jq -r '[.[] | .verdict] | join(" ")' "$j")" \
	"PASS PASS PASS"
expect_eq "3 nonces, all different" \
	"$(jq -r '[.[].nonce] | unique | length' "$j")" 3
expect_eq "3 logs, one per run" "$(jq -r '[.[].log] | unique | length' "$j")" 3
for i in 0 1 2; do
	n=$(jq -r ".[$i].nonce" "$j")
	own_log "$j" "$i" > "$TMP/good$i.log"
	check "run $i: its log holds its own guest's marker (nonce $n)" \
		grep -q "^HVMATRIX-OK nonce=$n" "$TMP/good$i.log"
	expect_eq "run $i: and no other run's marker" \
		"$(grep '^HVMATRIX-OK nonce=' "$TMP/good$i.log" | grep -vc "nonce=$n")" 0
	check "run $i: the agent knew its guest by its own job name" \
		grep -q "^hvmatrix-agent: begin job=$cell@$n " "$TMP/good$i.log"
	check "run $i: the three shared one dom0 boot (the dom0's lines are in every log)" \
		grep -q "^hvmatrix-agent: ready jobs=3" "$TMP/good$i.log"
done
"$HVM" results --json > "$TMP/results.json"
expect_eq "the store holds the group's 3 PASS runs with 3 logs" \
	"$(jq -r --slurpfile g "$j" '[.[] | select(.verdict == "PASS") | select(.nonce as $n | $g[0] | map(.nonce) | index($n)) | .log] | unique | length' "$TMP/results.json")" 3
id=$(jq -r '[.[] | select(.nonce == "'"$(jq -r '.[1].nonce' "$j")"'")][0].id' "$TMP/results.json")
check "results --log of the second run shows that run's guest" \
	sh -c "'$HVM' results --log '$id' | grep -q '^HVMATRIX-OK nonce=$(jq -r '.[1].nonce' "$j")'"

# 2. The coin-flip kernel (panics one boot in two), 6 runs: each verdict
# is what its own guest did; no verdict for a guest that did not run.
rc=$(group "$coin" 6 coin)
j=$TMP/coin.json
expect_eq "6 runs, 6 verdicts" "$(jq -r 'length' "$j")" 6
expect_eq "6 logs, one per run" "$(jq -r '[.[].log] | unique | length' "$j")" 6
pass=0 fail=0
for i in 0 1 2 3 4 5; do
	n=$(jq -r ".[$i].nonce" "$j")
	v=$(jq -r ".[$i].verdict" "$j")
	own_log "$j" "$i" > "$TMP/coin$i.log"
	check "run $i: its guest ran (its own begin line in its log)" \
		grep -q "^hvmatrix-agent: begin job=$cell@$n " "$TMP/coin$i.log"
	if grep -q "^HVMATRIX-OK nonce=$n" "$TMP/coin$i.log"; then
		said=PASS pass=$((pass + 1))
	elif grep -q "coin flip lost" "$TMP/coin$i.log"; then
		said=FAIL fail=$((fail + 1))
	else
		said="neither marker nor panic"
	fi
	expect_eq "run $i: verdict $v matches what its own guest printed" "$v" "$said"
done
echo "# coin flips: $pass PASS, $fail FAIL of 6"
expect_eq "exit code follows the verdicts" "$rc" "$([ "$fail" -gt 0 ] && echo 1 || echo 0)"
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
