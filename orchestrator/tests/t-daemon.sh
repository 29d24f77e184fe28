#!/usr/bin/env bash
# Integration: the daemon over a real kernel tree (Debian's linux-source-6.1
# as a git repository with demo commits on top, images/kernels/make-tree.sh):
# every commit is built incrementally in one persistent tree and booted in
# two cells; the commit that breaks the VMware interface FAILs there only,
# the one that does not compile is BLOCKED everywhere. SIGTERM stops the
# daemon cleanly with its job back in the queue; a kill -9 in the middle of
# a build leaves no build process behind, and the restarted daemon finishes
# the queue with no result lost or recorded twice; an invalid edit of the
# matrix file is refused with file:line:col while the daemon goes on.
. "$(dirname "$0")/lib.sh"

tree=$(sh "$top_srcdir/images/kernels/make-tree.sh" "$top_builddir/cache") || {
	echo "not ok 1 - cannot make the demo kernel tree"
	exit 99
}
# The demo commits, oldest first: one harmless, VMware broken, the build
# broken, both reverted (see make-tree.sh).
commits=$(git -C "$tree" rev-list --reverse -4 master)
c_ok=$(echo "$commits" | sed -n 1p)
c_vmware=$(echo "$commits" | sed -n 2p)
c_nobuild=$(echo "$commits" | sed -n 3p)
c_fixed=$(echo "$commits" | sed -n 4p)

# Relative paths, as users write them: the matrix's own directory is
# where they start from, whatever the daemon's working directory.
matrix=$TMP/matrix.yaml
cp "$top_srcdir/images/configs/hvmatrix.config" "$TMP/fragment.config"
cat > "$matrix" <<YAML
trees:
  - name: demo
    path: $tree
    branches: [master]
    first: 4
builds:
  - name: tiny
    base: tinyconfig
    fragments: fragment.config
cells:
  - name: q35
    machine: pc-q35-7.2
    expect: hypervisor=none
  - name: vmware
    machine: pc,vmport=on
    cpu: max,-hypervisor
    qemu_args: [-smbios, "type=1,serial=VMware-0"]
    expect: "Hypervisor detected: VMware"
    silence: 20
    timeout: 300
YAML

state=$TMP/state
building() {
	grep -q '"stage": "make"' "$state/daemon.json" 2>/dev/null &&
		[ -n "$(pgrep -f "$state/build/")" ]
}
no_build_left() { [ -z "$(pgrep -f "$state/build/")" ]; }
# The daemon, started from $TMP with the matrix named relatively. Only
# in the background ("daemon ... &"): it execs, so $! is the daemon.
daemon() { cd "$TMP" && exec "$HVM" daemon --matrix matrix.yaml "$@"; }

# 1. SIGTERM while the first (cold) build compiles: a clean stop.
daemon --state "$state" --jobs 2 > "$TMP/daemon0.log" 2>&1 &
pid=$!
check "the daemon queues the 4 new commits and starts building" \
	wait_for 600 building
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
expect_eq "SIGTERM: the daemon exits 0" "$rc" 0
check "SIGTERM: no make or compiler is left running" wait_for 15 no_build_left
db=$state/hvmatrix.db
expect_eq "SIGTERM: the stopped job is back in the queue" \
	"$(sqlite3 "$db" "SELECT group_concat(state) FROM jobs")" \
	"queued,queued,queued,queued"

# 2. Again, and kill -9 while it compiles.
daemon --state "$state" --jobs 2 --until-idle > "$TMP/daemon1.log" 2>&1 &
pid=$!
check "the restarted daemon builds again" wait_for 600 building
sleep 5
kill -KILL "$pid"
{ wait "$pid"; } 2>/dev/null
check "kill -9 mid-build: no make or compiler is left running" \
	wait_for 15 no_build_left
expect_eq "nothing was recorded for the unfinished build" \
	"$("$HVM" results --json --state "$state" | jq length)" 0

# 3. Restart: the queue resumes and empties. Meanwhile an invalid edit
# of the matrix is refused and the good one comes back.
daemon --state "$state" --jobs 2 --until-idle > "$TMP/daemon2.log" 2>&1 &
pid=$!
check "the daemon resumes the interrupted build" wait_for 600 building
cp "$matrix" "$TMP/good.yaml"
sed 's/^    expect: hypervisor=none$/    expcet: hypervisor=none/' \
	"$TMP/good.yaml" > "$TMP/bad.yaml"
cp "$TMP/bad.yaml" "$matrix"
check "an invalid edit is refused with file:line:col" wait_for 30 \
	grep -q "matrix reload refused: $matrix:[0-9]*:[0-9]*: unknown key 'expcet'" \
	"$TMP/daemon2.log"
cp "$TMP/good.yaml" "$matrix"
check "the fixed matrix is taken again" wait_for 30 \
	grep -q "matrix reloaded" "$TMP/daemon2.log"
rc=0
wait "$pid" || rc=$?
expect_eq "the restarted daemon empties the queue (exit 1: a FAIL seen)" \
	"$rc" 1
grep -q "queue empty" "$TMP/daemon2.log" ||
	{ echo "# daemon log:"; sed 's/^/#   /' "$TMP/daemon2.log" | tail -40; }

# The verdicts of a commit's runs per cell (a FAIL is confirmed by more
# runs of the same cell: those show once).
verdicts() {
	"$HVM" results --json --state "$state" --commit "$1" |
		jq -r '[.[] | "\(.cell)=\(.verdict)"] | unique | join(" ")'
}
expect_eq "harmless commit: PASS everywhere" "$(verdicts "$c_ok")" \
	"q35=PASS vmware=PASS"
expect_eq "VMware-breaking commit: FAIL in the VMware cell only" \
	"$(verdicts "$c_vmware")" "q35=PASS vmware=FAIL"
expect_eq "commit that does not compile: BLOCKED, never FAIL" \
	"$(verdicts "$c_nobuild")" "q35=BLOCKED vmware=BLOCKED"
expect_eq "the fix: PASS everywhere" "$(verdicts "$c_fixed")" \
	"q35=PASS vmware=PASS"
runs_sql() { sqlite3 "$db" "$1"; }
expect_eq "every (commit, cell) tested once by the push: 8, none twice" \
	"$(runs_sql "SELECT count(*) || ' ' || count(DISTINCT commit_id || cell) FROM runs WHERE purpose = 'test'")" \
	"8 8"
expect_eq "the new FAIL was confirmed: more FAIL runs of it, nothing else" \
	"$(runs_sql "SELECT group_concat(DISTINCT cell || '=' || verdict) FROM runs WHERE purpose = 'confirm'")" \
	"vmware=FAIL"
check "confirmed: at least 3 FAIL runs of the VMware cell on the commit" \
	test "$(runs_sql "SELECT count(*) FROM runs WHERE commit_id = '$c_vmware' AND cell = 'vmware' AND verdict = 'FAIL'")" -ge 3
regs=$("$HVM" regressions --state "$state" --matrix "$matrix" --all --json)
expect_eq "regressions: the VMware cell broke at the VMware commit, fixed by the revert" \
	"$(jq -r '[.[] | "\(.cells | join(",")) \(.status) \(.first_bad.commit) \(.fixed_by.commit)"] | join("; ")' <<< "$regs")" \
	"vmware fixed $c_vmware $c_fixed"
expect_eq "the same failure on each run of the culprit" \
	"$(jq -r '.[0].runs.fail == .[0].runs.total' <<< "$regs")" true
# The compiler's own line for the planted syntax error in kernel/panic.c,
# in both cells: not just any line with "error" in it.
blocked_lines=$("$HVM" results --json --state "$state" --commit "$c_nobuild" |
	jq -r '.[].line')
check "the BLOCKED runs carry the compiler's error line (kernel/panic.c)" \
	grep -Eq '(^|/)kernel/panic\.c:[0-9]+:[0-9]+: error: ' <<< "$blocked_lines"
expect_eq "both BLOCKED cells carry the same line" \
	"$(sort -u <<< "$blocked_lines" | wc -l)" 1
check "the BLOCKED reason names make's exit, not the farm" \
	contains "$("$HVM" results --json --state "$state" --commit "$c_nobuild" |
		jq -r '.[0].reason')" "make exited"
expect_eq "each commit queued once, all done" \
	"$(sqlite3 "$db" "SELECT count(*) || ' ' || sum(state = 'done') FROM jobs")" \
	"4 4"
# Incremental: the later commits recompile a handful of files, the first
# (cold) build thousands.
compiled() {	# build logs are compressed (.log.zst)
	log_text "$(sqlite3 "$db" "SELECT log_path FROM builds WHERE \
		commit_id = '$1' AND status != 'ERROR' ORDER BY id DESC LIMIT 1")" |
		grep -c '^  CC '
}
# The first commit's build was stopped and killed before it finished, so
# its last log shows only what the resumed build had left to compile (with
# the shared compiler cache that can be nothing): count the kernel's
# objects in the persistent build tree instead.
n_ok=$(find "$state/build/demo/tiny/out" -name '*.o' | wc -l)
n_vmware=$(compiled "$c_vmware")
check "the first build compiled the kernel ($n_ok objects)" test "$n_ok" -gt 300
check "the next commit's build is incremental ($n_vmware files)" \
	test "$n_vmware" -lt 20
check "the dashboard shows the commits" \
	contains "$(cat "$state/dashboard/index.html")" "${c_vmware:0:12}"
# 4. run: a commit already recorded is reported, not run again.
n_runs=$(runs_sql "SELECT count(*) FROM runs")
rc=0
"$HVM" run --matrix "$matrix" --state "$state" --tree demo --rev "$c_fixed" \
	--json -q > "$TMP/run.json" 2> "$TMP/run.err" || rc=$?
expect_eq "run of a tested commit: exit 0" "$rc" 0
expect_eq "run prints its verdicts" \
	"$(jq -r 'sort_by(.cell) | [.[] | "\(.cell)=\(.verdict)"] | join(" ")' "$TMP/run.json")" \
	"q35=PASS vmware=PASS"
expect_eq "run added no run" \
	"$(runs_sql "SELECT count(*) FROM runs")" "$n_runs"
check "status shows an empty queue" \
	contains "$("$HVM" status --matrix "$matrix" --state "$state")" \
	"queue: 0 queued, 0 running, 4 done"
expect_eq "nothing of this test is left running" "$(leftovers)" ""
finish
