#!/usr/bin/env bash
# Integration: a full disk, for real. The state directory is a small
# tmpfs; once the first commit has its verdicts the test fills it. The
# daemon must pause (the reason in its status file, which it can still
# write), take no work and record nothing wrong meanwhile, then resume by
# itself once space is freed, and finish every commit with nothing
# recorded lost or recorded twice.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
	echo "not ok 1 - mounting a tmpfs needs root (CI runs as root)"
	exit 1
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

state=$TMP/state
mkdir -p "$state"
as_root mount -t tmpfs -o size=48m,mode=0777 hvm-test "$state" || {
	echo "not ok 1 - cannot mount a tmpfs on $state"
	exit 1
}
umount_state() { as_root umount -l "$state" 2>/dev/null; cleanup; }
trap umount_state EXIT

# Its three commits install one image: `reuse: false` makes each boot,
# so that writes are still due when the disk fills.
tiny_tree "$TMP/tree" 3
cat > "$TMP/m.yaml" <<YAML
trees:
  - name: tiny
    path: $TMP/tree
    first: 3
    reuse: false
builds:
  - name: b
    base: tinyconfig
cells:
  - name: pc
    expect: hypervisor=none
  - name: q35
    machine: pc-q35-7.2
    expect: hypervisor=none
YAML
db=$state/hvmatrix.db
n_runs() { sqlite3 "file:$db?mode=ro" "SELECT count(*) FROM runs" 2>/dev/null || echo 0; }
first_done() { [ "$(n_runs)" -ge 2 ]; }
paused() { jq -e '.paused | strings' "$state/daemon.json" > /dev/null 2>&1; }
not_paused() { jq -e '.paused == null' "$state/daemon.json" > /dev/null 2>&1; }

export HVMATRIX_RETRY_BASE_S=1
"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 \
	--until-idle > "$TMP/daemon.log" 2>&1 &
pid=$!
check "the first commit gets its verdicts" wait_for 120 first_done
# Fill the disk: the daemon's next writes find no space.
dd if=/dev/zero of="$state/filler" bs=1M > /dev/null 2>&1
check "the disk is full" test "$(df --output=avail "$state" | tail -1)" -lt 64
check "the daemon pauses" wait_for 120 paused
reason=$(jq -r .paused "$state/daemon.json")
check "the status file says why ($reason)" \
	grep -Eqi "full|space" <<< "$reason"
check "status shows the pause" \
	contains "$("$HVM" status --state "$state" --matrix "$TMP/m.yaml" 2>&1)" "paused: the store does not take writes"
runs_paused=$(n_runs)
sleep 5
expect_eq "nothing is recorded while paused" "$(n_runs)" "$runs_paused"
check "the daemon is still running" kill -0 "$pid"
rm -f "$state/filler"
check "it resumes by itself once space is freed" wait_for 60 not_paused
rc=0
wait "$pid" || rc=$?
expect_eq "the daemon empties the queue and exits 0" "$rc" 0
grep -q "resuming" "$TMP/daemon.log" ||
	{ echo "# daemon log:"; sed 's/^/#   /' "$TMP/daemon.log" | tail -40; }
expect_eq "every commit's every cell PASSes, each recorded once" \
	"$(sqlite3 "$db" "SELECT count(*) || ' ' || count(DISTINCT commit_id || cell) || ' ' || sum(verdict = 'PASS') FROM runs")" \
	"6 6 6"
expect_eq "every job is done" \
	"$(sqlite3 "$db" "SELECT group_concat(state) FROM jobs")" "done,done,done"
expect_eq "nothing of this test is left running" "$(leftovers)" ""
finish
