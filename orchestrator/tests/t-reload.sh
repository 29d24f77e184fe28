#!/usr/bin/env bash
# SIGHUP (systemd's ExecReload) makes the daemon re-read its matrix: a
# valid edit is taken ("matrix reloaded" with the new cell count), a
# SIGHUP with the file unchanged reloads it too (no file change is
# needed), and a malformed matrix is refused with file:line:col while the
# last good one stays in force and the daemon keeps running. The daemon
# works on a tiny tree whose build sleeps, so nothing boots.
. "$(dirname "$0")/lib.sh"

tiny_tree "$TMP/tree" 1 "sleep 60"
matrix=$TMP/matrix.yaml
write_matrix() {
	{
		cat <<YAML
trees:
  - name: t
    path: $TMP/tree
builds:
  - name: b
    base: tinyconfig
cells:
YAML
		for c in "$@"; do printf '  - name: %s\n' "$c"; done
	} > "$matrix.tmp" && mv "$matrix.tmp" "$matrix"
}
write_matrix one two
log=$TMP/daemon.log
"$HVM" daemon --matrix "$matrix" --state "$TMP/state" --jobs 1 \
	> "$log" 2>&1 &
pid=$!
started() { grep -q "hvmatrix daemon: matrix .*(2 cells" "$log"; }
check "the daemon starts with 2 cells" wait_for 60 started

# The line the daemon printed right after its Nth "SIGHUP" line.
after_hup() {
	awk -v n="$1" '/SIGHUP: re-reading/ { if (++k == n) { getline; print; exit } }' "$log"
}
hup_done() { [ -n "$(after_hup "$1")" ]; }

# 1. An edit, then SIGHUP: the new matrix, at once.
write_matrix one two three
kill -HUP "$pid"
check "SIGHUP: the daemon re-reads the matrix" wait_for 30 hup_done 1
check "  and takes the new one: 3 cells" \
	contains "$(after_hup 1)" "matrix reloaded: 3 cells, 1 trees, 1 builds"
check "  and keeps running" kill -0 "$pid"

# 2. SIGHUP with nothing changed: reloaded all the same.
kill -HUP "$pid"
check "SIGHUP with the file unchanged: reloaded too" wait_for 30 hup_done 2
check "  3 cells" contains "$(after_hup 2)" "matrix reloaded: 3 cells"

# 3. A malformed matrix: refused with file:line:col, the old one kept.
sleep 1.5	# let the file watcher see the valid one before the bad one
printf 'cells:\n  - name: a\n    memory: lots\n' > "$matrix.tmp" &&
	mv "$matrix.tmp" "$matrix"
kill -HUP "$pid"
check "SIGHUP with a malformed matrix: handled" wait_for 30 hup_done 3
line=$(after_hup 3)
echo "# $line"
check "  refused with file:line:col" \
	contains "$line" "matrix reload refused: $matrix:3:13: memory:"
check "  the last good matrix is kept" \
	contains "$line" "keeping the last good matrix"
sleep 1
check "  the daemon still runs" kill -0 "$pid"
check "  and still reports its status" \
	sh -c "'$HVM' status --state '$TMP/state' --json | jq -e '.daemon.pid == $pid' > /dev/null"

# 4. Fixed again: the next SIGHUP takes it.
write_matrix solo
kill -HUP "$pid"
check "after the fix, SIGHUP takes it: 1 cell" wait_for 30 hup_done 4
check "  1 cell" contains "$(after_hup 4)" "matrix reloaded: 1 cells"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
expect_eq "SIGTERM still stops it, exit 0" "$rc" 0
no_build_left() { [ -z "$(pgrep -f "$TMP/state/build/")" ]; }
check "nothing it started is left" wait_for 15 no_build_left
finish
