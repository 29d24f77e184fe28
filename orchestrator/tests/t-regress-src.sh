#!/usr/bin/env bash
# Integration: regressions found, confirmed and bisected by the daemon on
# a real kernel tree, every commit compiled: Debian's linux-source-6.1 as
# a git repository (make-tree.sh's demo tree, shared as an alternate, not
# copied), with a series of real source changes this test makes on top,
# which the store has never seen:
#   s1 harmless (arch/x86/kernel/setup.c)   s2 breaks the VMware interface
#   s3 harmless (README)                    s4 does not compile
#   s5 reverts s4                           s6 harmless tip (README)
# pushed in one go with `test: tips`: only the tip is built at once; the
# VMware cell FAILs there, is confirmed, and the daemon bisects to s2
# exactly (s4, if tried, is BLOCKED and skipped). Then a coin-flip panic
# (one boot in two, after the console is up) pushed on its own is
# reported flaky, or pinned on itself: never on another commit.
# Builds are incremental in one persistent build tree (with ccache), so
# the first costs a kernel compile and the others seconds to a minute.
. "$(dirname "$0")/lib.sh"

here=$top_srcdir/images/kernels
demo=$(sh "$here/make-tree.sh" "$top_builddir/cache") || {
	echo "not ok 1 - cannot make the demo kernel tree"
	exit 99
}
src=$TMP/linux
git clone -q --shared --no-checkout "$demo" "$src"
# make-tree.sh's commit 2: good everywhere.
base=$(git -C "$demo" rev-list --reverse master | sed -n 2p)
git -C "$src" update-ref refs/heads/master "$base"

# Commits are made without a work tree (78,000 files stay in the
# alternate): a private index, one blob changed per commit.
export GIT_INDEX_FILE=$TMP/index GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="A U Thor" GIT_AUTHOR_EMAIL=author@example.org
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
git -C "$src" read-tree master
# change SUBJECT PATH FILTER...: the file's content through FILTER.
change() {
	local subject=$1 path=$2 blob tree c
	shift 2
	git -C "$src" show "master:$path" | "$@" > "$TMP/blob"
	blob=$(git -C "$src" hash-object -w "$TMP/blob")
	git -C "$src" update-index --cacheinfo "100644,$blob,$path"
	tree=$(git -C "$src" write-tree)
	c=$(git -C "$src" commit-tree "$tree" -p master -m "$subject")
	git -C "$src" update-ref refs/heads/master "$c"
	echo "$c"
}
apply() {	# apply PATCH: stdin patched, to stdout
	cat > "$TMP/orig"
	patch -s -o - "$TMP/orig" "$1"
}
append() { cat; echo "$1"; }
original() { cat > /dev/null; git -C "$src" show "$base:$1"; }

cells="  - name: vmware
    machine: pc,vmport=on
    cpu: max,-hypervisor
    qemu_args: [-smbios, \"type=1,serial=VMware-0\"]
    expect: \"Hypervisor detected: VMware\"
    silence: 20"
# Eight plain cells: a coin that lands one way in eight boots in a row is
# one run in 256.
for i in 0 1 2 3 4 5 6 7; do
	cells="$cells
  - name: plain$i
    expect: hypervisor=none"
done
cp "$top_srcdir/images/configs/hvmatrix.config" "$TMP/fragment.config"
cat > "$TMP/m.yaml" <<YAML
trees:
  - name: linux
    path: $src
    test: tips
    first: 1
builds:
  - name: tiny
    base: tinyconfig
    fragments: fragment.config
cells:
$cells
YAML
state=$TMP/state
daemon() {
	"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 \
		--until-idle > "$TMP/daemon$1.log" 2>&1
	local rc=$?
	grep -E 'build|bisect|regression' "$TMP/daemon$1.log" | tail -15 |
		sed 's/^/# /'
	return $rc
}
regressions() { "$HVM" regressions --state "$state" --matrix "$TMP/m.yaml" --json "$@"; }
results() { "$HVM" results --json --state "$state" "$@"; }
# The commits of the tree compiled (a revert check's commit is not one).
built() { sqlite3 "$state/hvmatrix.db" "SELECT count(DISTINCT commit_id) FROM builds WHERE commit_id != '$base' AND commit_id NOT IN (SELECT revert_commit FROM reverts)"; }

# 1. The last good commit: a whole kernel compiled.
daemon 1 || true
expect_eq "push 1: the base commit passes in every cell" \
	"$(results | jq -r '[.[] | .verdict] | unique | join(" ")')" PASS

# 2. Six commits in one push, the tip broken under VMware.
s1=$(change "x86/setup: a harmless comment" arch/x86/kernel/setup.c \
	append "/* hvmatrix test: harmless */")
s2=$(change "x86/vmware: break platform setup" arch/x86/kernel/cpu/vmware.c \
	apply "$here/break-vmware.patch")
s3=$(change "README: harmless" README append "hvmatrix test: harmless 1")
s4=$(change "panic: does not compile" kernel/panic.c \
	apply "$here/break-build.patch")
s5=$(change "Revert \"panic: does not compile\"" kernel/panic.c \
	original kernel/panic.c)
s6=$(change "README: the tip" README append "hvmatrix test: harmless 2")
daemon 2 || true
regressions --all > "$TMP/r2.json"
sed 's/^/# /' "$TMP/r2.json" | head -40
vm() { jq -r "[.[] | select(.cell == \"vmware\")] | .[0] | $1" "$TMP/r2.json"; }
expect_eq "one regression, in the VMware cell only" \
	"$(jq -r '[.[] | .cells[]] | unique | join(" ")' "$TMP/r2.json")" vmware
expect_eq "it is open" "$(vm .status)" open
expect_eq "bisected to the exact first bad commit (s2)" "$(vm .first_bad.commit)" "$s2"
expect_eq "with its subject and author" \
	"$(vm '.first_bad.subject + " / " + .first_bad.author')" \
	"x86/vmware: break platform setup / A U Thor <author@example.org>"
expect_eq "its last good commit is its parent (s1)" "$(vm .last_good.commit)" "$s1"
check "the decisive line is the kernel's own panic (early console)" \
	sh -c "echo '$(vm .line)' | grep -q 'Kernel panic - not syncing: hvmatrix test: broken VMware platform setup'"
check "the culprit's FAIL was reproduced ($(vm .runs.fail) runs)" \
	test "$(vm .runs.fail)" -ge 3
check "the bisection says what it spent ($(vm .bisect.builds) builds, $(vm .bisect.boots) boots)" \
	test "$(vm .bisect.builds)" -ge 1 -a "$(vm .bisect.boots)" -ge 1
n_built=$(built)
check "commits compiled: $n_built of 6 (the tip, log2 steps and the ends; never all)" \
	test "$n_built" -ge 2 -a "$n_built" -le 5
# The culprit checked: s2 reverted on the tip (s6), compiled and booted
# in the VMware cell, passes there.
expect_eq "s2 reverted on the tip heals the VMware cell" \
	"$(vm '"\(.revert.status) \(.revert.tip)"')" "heals $s6"
expect_eq "... booted in the VMware cell only" \
	"$(sqlite3 "$state/hvmatrix.db" "SELECT group_concat(DISTINCT cell) FROM runs WHERE purpose = 'revert'")" vmware
expect_eq "the commit that does not compile, if tried, is BLOCKED, never FAIL" \
	"$(results --commit "$s4" | jq -r '[.[] | select(.verdict != "BLOCKED")] | length')" 0
expect_eq "bisection runs only the broken cell" \
	"$(sqlite3 "$state/hvmatrix.db" "SELECT group_concat(DISTINCT cell) FROM runs WHERE purpose = 'bisect'")" vmware
expect_eq "the plain cells have no regression" \
	"$(jq -r '[.[] | select(.cell != "vmware")] | length' "$TMP/r2.json")" 0
expect_eq "s1 and s3, if tried, pass where they were tried (no false culprit)" \
	"$(results | jq -r "[.[] | select((.commit == \"$s1\") and .verdict != \"PASS\")] | length")" 0

# 3. A coin flip on its own: flaky, never another commit's fault.
s7=$(change "init: a coin flip" init/main.c apply "$here/break-coinflip.patch")
daemon 3 || true
regressions --all > "$TMP/r3.json"
sed 's/^/# /' "$TMP/r3.json" | grep -E '"(status|cell|commit|signature)"' | head -30
lost=$(sqlite3 "$state/hvmatrix.db" "SELECT count(*) FROM runs WHERE commit_id = '$s7' AND line LIKE '%coin flip lost%'")
check "the coin flip lost at least once in the plain cells ($lost runs)" test "$lost" -ge 1
expect_eq "it is never blamed on another commit" \
	"$(jq -r "[.[] | select(.signature | contains(\"coin flip\")) | select(.status != \"flaky\" and .first_bad.commit != \"$s7\")] | length" "$TMP/r3.json")" 0
check "where it showed both ways it is flaky, with its rate" \
	jq -e '[.[] | select(.signature | contains("coin flip"))] | length == 0 or
		any(.[]; (.signature | contains("coin flip")) and
		   ((.status == "flaky" and .runs.fail < .runs.total) or .status == "open"))' "$TMP/r3.json"
expect_eq "the VMware regression still begins at s2" \
	"$(jq -r "[.[] | select(.cell == \"vmware\" and .first_bad.commit == \"$s2\")] | length" "$TMP/r3.json")" 1
expect_eq "nothing of this test is left running" "$(leftovers)" ""
finish
