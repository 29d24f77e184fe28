#!/usr/bin/env bash
# Integration: `hvmatrix try` on a developer's series, with the real test
# kernels (build-test-kernels.sh: good, and broken under VMware only)
# booted under real QEMU in two plain cells and a VMware cell. The tree
# "builds" by copying the kernel its commit names (kernel_tree, lib.sh).
#
# The tree's master holds the base (its verdicts recorded by `hvmatrix
# run`); branch "series" holds three patches on it, the second of which
# breaks the VMware interface. Tried as a range and as an mbox: exit 1,
# the VMware cell broken, pinned on the second patch (the culprit). A
# series whose second patch does not apply: exit 2 naming it. A clean
# commit: exit 0. The tree's regressions, results, KCIDB export and
# dashboard are the same before and after.
. "$(dirname "$0")/lib.sh"

test_kernels
tree=$TMP/tree
kernel_tree "$tree"
commit() { kernel_commit "$tree" "$@"; }	# SUBJECT KERNEL [broken]

tips_matrix "$tree" "  - name: vmware
    machine: pc,vmport=on
    cpu: max,-hypervisor
    qemu_args: [-smbios, \"type=1,serial=VMware-0\"]
    expect: \"Hypervisor detected: VMware\"
    silence: 20
  - name: plain0
    expect: hypervisor=none
  - name: plain1
    expect: hypervisor=none" > "$TMP/m.yaml"
state=$TMP/state
hvm() { "$HVM" "$@" --matrix "$TMP/m.yaml" --state "$state"; }
try() { hvm try --jobs 2 "$@"; }
t0=$(date +%s)

base=$(commit "base" "$good")
git -C "$tree" checkout -q -b series
p1=$(commit "docs: a harmless change" "$good")
p2=$(commit "vmware: break platform setup" "$vmware")
p3=$(commit "more on top" "$vmware")
git -C "$tree" checkout -q -b clean master
clean=$(commit "docs: a clean change" "$good")
git -C "$tree" checkout -q master

# The tree's own verdicts of the base, as the daemon would record them.
hvm run --tree t --rev "$base" --jobs 2 -q > "$TMP/run.out" 2>&1
expect_eq "the base passes in every cell (the tree's own run)" \
	"$("$HVM" results --json --state "$state" | jq -r '[.[] | .verdict] | unique | join(" ")')" PASS
# What the tree shows: compared after every try.
snapshot() {
	hvm regressions --json --all > "$TMP/$1.regressions"
	"$HVM" results --json --state "$state" > "$TMP/$1.results"
	hvm export kcidb --origin t > "$TMP/$1.kcidb" 2>/dev/null
	# The same directory: a page is written again only when its data
	# changed (a try's runs must change none).
	"$HVM" dashboard --state "$state" --out "$TMP/dash" > /dev/null 2>&1
	# (Its own bookkeeping, .manifest and the copy it keeps, left out.)
	(cd "$TMP/dash" && find . -type f ! -name '.*' | sort |
		xargs sha256sum) > "$TMP/$1.dashsum"
}
snapshot before
check "the dashboard was written" test -s "$TMP/before.dashsum"
check "the KCIDB export holds the tree's 3 runs" \
	test "$(jq '[.tests[] | .misc.run] | unique | length' "$TMP/before.kcidb")" -eq 3

# 1. The series as a range.
try --json "$base..series" > "$TMP/range.json" 2> "$TMP/range.err"
expect_eq "a range that breaks a cell: exit 1" "$?" 1
sed 's/^/# /' "$TMP/range.json"
cell() { jq -r ".cells[] | select(.cell == \"$2\") | $3" "$1"; }
expect_eq "range: base and tip named" \
	"$(jq -r '.base.commit + " " + .tip.commit + " " + .tip.subject' "$TMP/range.json")" \
	"$base $p3 more on top"
expect_eq "range: the VMware cell breaks (PASS -> FAIL)" \
	"$(cell "$TMP/range.json" vmware '.base + " " + .tip + " " + .change')" "PASS FAIL breaks"
check "range: with its decisive line" \
	contains "$(cell "$TMP/range.json" vmware .line)" "broken VMware platform setup"
expect_eq "range: the plain cells are the same" \
	"$(jq -r '[.cells[] | select(.cell != "vmware") | .change] | join(" ")' "$TMP/range.json")" "same same"
expect_eq "range: the culprit is the second patch" \
	"$(jq -c '.culprit' "$TMP/range.json")" \
	"[{\"cell\":\"vmware\",\"commit\":\"$p2\",\"subject\":\"vmware: break platform setup\"}]"
check "range: the base was not booted (the tree's verdicts)" \
	sh -c "! grep -q 'base (no verdict' '$TMP/range.err'"
check "range: progress lines on stderr" grep -q "building, booting 3 cells" "$TMP/range.err"
expect_eq "range: the patches were booted in the broken cell only" \
	"$(sqlite3 "$state/hvmatrix.db" "SELECT group_concat(cell) FROM runs WHERE commit_id IN ('$p1', '$p2')")" \
	"vmware,vmware"
expect_eq "range: every try run is recorded apart (purpose try)" \
	"$(sqlite3 "$state/hvmatrix.db" "SELECT DISTINCT tree || ' ' || purpose FROM runs WHERE commit_id <> '$base'")" \
	"try@t try"

# The same for people, from the recorded runs (nothing boots again).
try -q "$base..series" > "$TMP/range.txt" 2>&1
expect_eq "range again: exit 1" "$?" 1
sed 's/^/# /' "$TMP/range.txt"
check "for people: each cell with its hypervisor release" \
	grep -q '^plain0 .*same *qemu ' "$TMP/range.txt"
check "for people: the VMware cell named with the second patch's subject" \
	sh -c "grep -A1 '^vmware .*breaks' '$TMP/range.txt' | grep -q 'patch 2/3 ${p2:0:12} \"vmware: break platform setup\"'"
expect_eq "range again: nothing booted twice" \
	"$(sqlite3 "$state/hvmatrix.db" "SELECT count(*) FROM runs WHERE tree = 'try@t'")" 5

# A base the tree never ran: its verdicts are an earlier try's where there
# is one (p1 in the VMware cell, from the culprit search), else it is run.
try --json "$p1..series" > "$TMP/nobase.json" 2> "$TMP/nobase.err"
expect_eq "a base without the tree's verdicts: exit 1" "$?" 1
check "the base is run in the two cells no try ran it in" \
	grep -q "base (no verdict recorded) ${p1:0:12}: building, booting 2 cells" "$TMP/nobase.err"
expect_eq "and compared with: VMware breaks, at p2" \
	"$(jq -r '([.cells[] | .base + .tip + .change] | join(" ")) + " " + .culprit[0].commit' "$TMP/nobase.json")" \
	"PASSFAILbreaks PASSPASSsame PASSPASSsame $p2"

# 2. The series as an mbox, applied onto the tree's tip.
git -C "$tree" format-patch -q --stdout "$base..series" > "$TMP/series.mbox"
try --json --mbox "$TMP/series.mbox" > "$TMP/mbox.json" 2> "$TMP/mbox.err"
expect_eq "an mbox that breaks a cell: exit 1" "$?" 1
sed 's/^/# /' "$TMP/mbox.json"
expect_eq "mbox: on the tree's tip" "$(jq -r .base.commit "$TMP/mbox.json")" "$base"
expect_eq "mbox: the VMware cell breaks" \
	"$(cell "$TMP/mbox.json" vmware '.base + " " + .tip + " " + .change')" "PASS FAIL breaks"
expect_eq "mbox: the culprit is the second patch" \
	"$(jq -r '.culprit[] | .cell + ": " + .subject' "$TMP/mbox.json")" \
	"vmware: vmware: break platform setup"
expect_eq "mbox: the scratch worktree is gone" \
	"$(git -C "$tree" worktree list | wc -l) $(ls "$state/try" | wc -l)" "1 0"

# 3. A series that does not apply: its second patch needs the one left out.
{ git -C "$tree" format-patch -q --stdout "$base..$p1"
  git -C "$tree" format-patch -q --stdout "$p2..$p3"; } > "$TMP/bad.mbox"
try --mbox "$TMP/bad.mbox" > "$TMP/bad.out" 2> "$TMP/bad.err"
expect_eq "a series that does not apply: exit 2" "$?" 2
sed 's/^/# /' "$TMP/bad.err" | tail -3
check "it names the patch" grep -q "patch 2 (more on top) does not apply" "$TMP/bad.err"
expect_eq "and the scratch worktree is gone" \
	"$(git -C "$tree" worktree list | wc -l) $(ls "$state/try" | wc -l)" "1 0"

# 4. A clean commit (REV against its parent): exit 0.
try --json "$clean" > "$TMP/clean.json" 2> "$TMP/clean.err"
expect_eq "a clean commit: exit 0" "$?" 0
expect_eq "clean: every cell the same, no culprit" \
	"$(jq -r '([.cells[] | .change] | unique | join(" ")) + " " + (.culprit | length | tostring)' "$TMP/clean.json")" \
	"same 0"

# 5. Usage.
try > /dev/null 2>&1
expect_eq "no series: exit 2" "$?" 2
try --daemon "$clean" > /dev/null 2> "$TMP/daemon.err"
expect_eq "--daemon: exit 2 (not supported yet)" "$?" 2
check "--daemon says so" grep -q "not supported yet" "$TMP/daemon.err"
try --cell 'nomatch*' "$clean" > /dev/null 2>&1
expect_eq "--cell matching nothing: exit 2" "$?" 2
try --cell 'plain*' --json "$clean" > "$TMP/cells.json" 2>/dev/null
expect_eq "--cell: only the matching cells" \
	"$(jq -r '[.cells[] | .cell] | join(" ")' "$TMP/cells.json")" "plain0 plain1"

# 6. The tree saw none of it.
snapshot after
for f in regressions results kcidb dashsum; do
	check "the tree's $f are unchanged" cmp -s "$TMP/before.$f" "$TMP/after.$f"
	diff "$TMP/before.$f" "$TMP/after.$f" | head -5 | sed 's/^/# /'
done
check "the results are the tree's (3 runs)" \
	test "$(jq length "$TMP/after.results")" -eq 3
check "the dashboard shows no try" \
	sh -c "! grep -rq 'try@' '$TMP/dash'"
check "the try's runs are in the store" \
	test "$(sqlite3 "$state/hvmatrix.db" "SELECT count(*) FROM runs WHERE purpose = 'try'")" -gt 10
check "no QEMU left behind" test -z "$(leftovers)"
echo "# wall time: $(($(date +%s) - t0)) s"
finish
