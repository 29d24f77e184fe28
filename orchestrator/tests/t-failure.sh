#!/usr/bin/env bash
# Integration: the daemon's failure policy, with real builds (a tiny tree
# whose make copies the test kernel, see tiny_tree in lib.sh), real QEMU
# and the real store.
#  - a build the farm cannot run (make killed by a signal) is tried again
#    after a backoff that doubles, and succeeds on its third attempt: the
#    commit PASSes, nothing is FAIL or BLOCKED;
#  - a build that always fails that way gets ERROR in every cell after
#    DAEMON_JOB_ATTEMPTS (3) attempts, never FAIL or BLOCKED;
#  - a cell whose QEMU cannot start is run 2 more times before its ERROR is
#    recorded, once;
#  - the loop's worst lag is in the status file.
. "$(dirname "$0")/lib.sh"

export HVMATRIX_RETRY_BASE_S=1
state=$TMP/state
db=$state/hvmatrix.db

# 1. make is killed twice, then builds.
# In the build's own directory (out/..): the only place its sandbox lets
# it write; one count per state directory.
tiny_tree "$TMP/flaky" 1 \
	"n=\$\$(cat \$(O)/../count 2>/dev/null | wc -l); if [ \$\$n -lt 2 ]; then echo x >> \$(O)/../count; kill -KILL \$\$PPID; fi"
cat > "$TMP/flaky.yaml" <<YAML
trees:
  - name: flaky
    path: $TMP/flaky
builds:
  - name: b
    base: tinyconfig
cells:
  - name: pc
    expect: hypervisor=none
YAML
rc=0
"$HVM" daemon --matrix "$TMP/flaky.yaml" --state "$state" --jobs 2 \
	--until-idle > "$TMP/d1.log" 2>&1 || rc=$?
expect_eq "a build the farm failed twice: exit 0 at last" "$rc" 0
expect_eq "it was built 3 times: 2 ERROR, then OK" \
	"$(sqlite3 "$db" "SELECT group_concat(status, ' ') FROM (SELECT status FROM builds ORDER BY id)")" \
	"ERROR ERROR OK"
expect_eq "the job took 3 attempts and is done" \
	"$(sqlite3 "$db" "SELECT attempts || ' ' || state FROM jobs")" "3 done"
check "the first retry waited 1 s" \
	grep -q "attempt 1 failed: make killed by signal 9; next attempt in 1 s" "$TMP/d1.log"
check "the second waited twice as long" \
	grep -q "attempt 2 failed: make killed by signal 9; next attempt in 2 s" "$TMP/d1.log"
expect_eq "the commit PASSes, recorded once" \
	"$("$HVM" results --json --state "$state" | jq -r '[.[] | .verdict] | join(" ")')" \
	"PASS"
has_lag() {
	jq -e '.loop.worst_lag_ms >= 0 and .loop.window_s == 60' \
		"$state/daemon.json" > /dev/null
}
check "the status file has the loop's worst lag" has_lag

# 2. make is always killed: ERROR in every cell after 3 attempts.
state2=$TMP/state2
tiny_tree "$TMP/broken" 1 "kill -KILL \$\$PPID"
sed -e "s|$TMP/flaky|$TMP/broken|" -e 's/name: flaky/name: broken/' \
	"$TMP/flaky.yaml" > "$TMP/broken.yaml"
cat >> "$TMP/broken.yaml" <<YAML
  - name: q35
    machine: pc-q35-7.2
YAML
rc=0
"$HVM" daemon --matrix "$TMP/broken.yaml" --state "$state2" --jobs 2 \
	--until-idle > "$TMP/d2.log" 2>&1 || rc=$?
expect_eq "a build the farm can never run: exit 3 (ERROR, no FAIL)" "$rc" 3
expect_eq "every cell ERROR after 3 attempts, never FAIL or BLOCKED" \
	"$("$HVM" results --json --state "$state2" | jq -r 'sort_by(.cell) | [.[] | "\(.cell)=\(.verdict)"] | join(" ")')" \
	"pc=ERROR q35=ERROR"
expect_eq "3 builds tried" \
	"$(sqlite3 "$state2/hvmatrix.db" "SELECT count(*) FROM builds WHERE status = 'ERROR'")" 3

# 3. A cell whose QEMU does not exist: ERROR after 3 runs, recorded once.
state3=$TMP/state3
cat > "$TMP/noqemu.yaml" <<YAML
trees:
  - name: flaky
    path: $TMP/flaky
builds:
  - name: b
    base: tinyconfig
cells:
  - name: pc
    expect: hypervisor=none
  - name: gone
    qemu: $TMP/no-such-qemu
YAML
# The flaky tree's make was killed twice already: it builds at once.
mkdir -p "$state3/build/flaky/b"
printf 'x\nx\n' > "$state3/build/flaky/b/count"
rc=0
"$HVM" daemon --matrix "$TMP/noqemu.yaml" --state "$state3" --jobs 2 \
	--until-idle > "$TMP/d3.log" 2>&1 || rc=$?
expect_eq "an ERROR cell and a PASS cell: exit 3" "$rc" 3
expect_eq "the ERROR cell was run 3 times in all" \
	"$(grep -c 'ERROR   gone' "$TMP/d3.log")" 3
expect_eq "its ERROR is recorded once, the other cell PASSes once" \
	"$("$HVM" results --json --state "$state3" | jq -r 'sort_by(.cell) | [.[] | "\(.cell)=\(.verdict)"] | join(" ")')" \
	"gone=ERROR pc=PASS"
expect_eq "nothing of this test is left running" "$(leftovers)" ""
finish
