#!/usr/bin/env bash
# Integration: a culprit checked by reverting it. Once the daemon's
# bisection names a first bad commit of an open regression, it builds the
# tree's tip with that commit reverted (a commit made in the state
# directory, never in the watched repository) and boots the broken cells
# with it; `regressions` then says whether the revert heals them. Two
# trees, watched by one daemon (test: tips, so the culprit is bisected):
#  heal:  c1 good; c2 breaks the VMware cell; c3 touches another file.
#         Bisected to c2; c2 reverted on c3 passes: "heals".
#  clash: c1 good; c2 breaks the VMware cell; c3 rewrites the lines c2
#         changed (its `subject` file). Bisected to c2; the revert
#         conflicts there: "does-not-apply", naming the file.
# The revert's runs are extra evidence: purpose `revert`, listed by
# `results`, never part of the tree's history, classes or dashboard.
. "$(dirname "$0")/lib.sh"

test_kernels

heal=$TMP/heal
clash=$TMP/clash
kernel_tree "$heal"
kernel_tree "$clash"
# other DIR FILE SUBJECT: a commit changing FILE only; prints its id.
other() {
	date +%s%N > "$1/$2"
	git -C "$1" add -A
	git -C "$1" -c user.name="A U Thor" -c user.email=author@example.org \
		commit -q -m "$3" > /dev/null
	git -C "$1" rev-parse HEAD
}

cat > "$TMP/m.yaml" <<YAML
trees:
  - name: heal
    path: $heal
    test: tips
    first: 1
    confirm: 1
  - name: clash
    path: $clash
    test: tips
    first: 1
    confirm: 1
builds:
  - name: b
    base: tinyconfig
cells:
  - name: vmware
    machine: pc,vmport=on
    cpu: max,-hypervisor
    qemu_args: [-smbios, "type=1,serial=VMware-0"]
    expect: "Hypervisor detected: VMware"
    silence: 20
  - name: plain
    expect: hypervisor=none
YAML
state=$TMP/state
daemon() {
	"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 \
		--until-idle > "$TMP/daemon$1.log" 2>&1
}
regressions() { "$HVM" regressions --state "$state" --matrix "$TMP/m.yaml" "$@"; }
db() { sqlite3 "$state/hvmatrix.db" "$1"; }

h1=$(kernel_commit "$heal" "good" "$good")
k1=$(kernel_commit "$clash" "good" "$good")
daemon 1 || true


h2=$(kernel_commit "$heal" "vmware: break platform setup" "$vmware")
h3=$(other "$heal" notes "notes: unrelated")
k2=$(kernel_commit "$clash" "vmware: break platform setup" "$vmware")
k3=$(printf 'reworded\n' > "$clash/subject" && other "$clash" notes "subject: reworded")
heads_before=$(git -C "$heal" for-each-ref | md5sum; git -C "$clash" for-each-ref | md5sum)
daemon 2 || true
grep -i revert "$TMP/daemon2.log" | sed 's/^/# /'
regressions --json --all > "$TMP/r.json"
sed 's/^/# /' "$TMP/r.json" | grep -E '"(id|status|commit|run_ids|why)"|^# +[0-9]' | head -40
of() { jq -r "[.[] | select(.tree == \"$1\" and .cell == \"vmware\")] | .[0] | $2" "$TMP/r.json"; }

# heal
expect_eq "heal: bisected to c2" "$(of heal .first_bad.commit)" "$h2"
expect_eq "heal: open" "$(of heal .status)" open
expect_eq "heal: the revert heals" "$(of heal .revert.status)" heals
expect_eq "heal: reverted on the tip" "$(of heal .revert.tip)" "$h3"
rc=$(of heal .revert.commit)
check "heal: the revert commit is a child of the tip, made outside the watched repository" \
	sh -c "git --git-dir='$state/revert/heal.git' rev-parse '$rc^' | grep -qx '$h3' &&
	       ! git -C '$heal' cat-file -e '$rc' 2>/dev/null"
ids=$(of heal '.revert.run_ids | map(tostring) | join(" ")')
check "heal: the revert's runs are named ($ids)" test -n "$ids"
results=$("$HVM" results --json --state "$state")
for id in $ids; do
	expect_eq "heal: run $id is in results: a PASS of the revert in the VMware cell" \
		"$(echo "$results" | jq -r ".[] | select(.id == $id) | \"\(.cell) \(.verdict) \(.purpose) \(.commit)\"")" \
		"vmware PASS revert $rc"
done
expect_eq "heal: only the broken cell booted the revert" \
	"$(db "SELECT group_concat(DISTINCT cell) FROM runs WHERE purpose = 'revert' AND tree = 'heal'")" vmware
check "heal: the text says verified by revert" \
	sh -c "'$HVM' regressions --state '$state' --matrix '$TMP/m.yaml' --tree heal | grep -q 'revert .*verified by revert: reverting it on ${h3:0:12} heals'"

"$HVM" report "heal:b:vmware:${h2:0:12}" --state "$state" --matrix "$TMP/m.yaml" > "$TMP/mail.txt" 2>&1 || true
check "heal: the report mail says verified by revert" \
	grep -q "^revert: *verified by revert: reverting it on ${h3:0:12} heals" "$TMP/mail.txt"

# clash
expect_eq "clash: bisected to c2" "$(of clash .first_bad.commit)" "$k2"
expect_eq "clash: the revert does not apply" "$(of clash .revert.status)" does-not-apply
expect_eq "clash: ... no runs" "$(of clash '.revert.run_ids | length')" 0
check "clash: ... naming the conflicting file ($(of clash .revert.why))" \
	sh -c "echo '$(of clash .revert.why)' | grep -q 'subject'"
check "clash: the text says why it is not verified" \
	sh -c "'$HVM' regressions --state '$state' --matrix '$TMP/m.yaml' --tree clash | grep -q 'not verified by revert (does-not-apply'"
"$HVM" report "clash:b:vmware:${k2:0:12}" --state "$state" --matrix "$TMP/m.yaml" > "$TMP/mail2.txt" 2>&1 || true
check "clash: the report mail says why it is not verified" \
	grep -q "^revert: *not verified by revert (does-not-apply on ${k3:0:12}): the revert does not apply: subject" "$TMP/mail2.txt"
expect_eq "clash: nothing booted for it" \
	"$(db "SELECT count(*) FROM runs WHERE purpose = 'revert' AND tree = 'clash'")" 0

# The revert is evidence, not a commit of the tree.
expect_eq "the revert commit is in no tree's history, classes or grid: results --commit shows it without a class" \
	"$("$HVM" results --json --state "$state" --commit "$rc" | jq -r '[.[] | .class] | unique | map(tostring) | join(" ")')" null
expect_eq "the tip's VMware runs are still failing (the revert did not fix the tree)" \
	"$("$HVM" results --json --state "$state" --commit "$h3" | jq -r '[.[] | select(.cell == "vmware") | .class] | unique | join(" ")')" \
	still-failing
check "the dashboard lists the tip, and no revert commit" \
	sh -c "grep -rqs '${h3:0:12}' '$state/dashboard' && ! grep -rqs '${rc:0:12}' '$state/dashboard'"
check "the dashboard's regressions say verified by revert" \
	sh -c "grep -rqs 'verified by revert: reverting it on ${h3:0:12} heals' '$state/dashboard'"
check "the KCIDB export leaves the revert's runs out" \
	sh -c "'$HVM' export kcidb --state '$state' --matrix '$TMP/m.yaml' --origin t_lab --out '$TMP/k.json' 2>/dev/null &&
	       jq -e '[.. | strings | select(contains(\"$h3\"))] | length > 0' '$TMP/k.json' > /dev/null &&
	       jq -e '[.. | strings | select(contains(\"$rc\"))] | length == 0' '$TMP/k.json' > /dev/null"
expect_eq "the watched repositories are not written to" \
	"$(git -C "$heal" for-each-ref | md5sum; git -C "$clash" for-each-ref | md5sum)" "$heads_before"

# A restart neither loses nor redoes the checks.
n_checks=$(db "SELECT count(*) FROM reverts")
n_runs=$(db "SELECT count(*) FROM runs WHERE purpose = 'revert'")
daemon 3 || true
expect_eq "after a restart: the same checks ($n_checks), no more revert runs ($n_runs)" \
	"$(db "SELECT count(*) FROM reverts") $(db "SELECT count(*) FROM runs WHERE purpose = 'revert'")" \
	"$n_checks $n_runs"
expect_eq "... and the same answer" \
	"$(regressions --json --all | jq -r '[.[] | select(.cell == "vmware") | "\(.tree)=\(.revert.status)"] | sort | join(" ")')" \
	"clash=does-not-apply heal=heals"
expect_eq "nothing of this test is left running" "$(leftovers)" ""
finish
