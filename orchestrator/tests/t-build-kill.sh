#!/usr/bin/env bash
# Integration: a build whose daemon *and* group trampoline die by SIGKILL
# (as an OOM kill would take them) leaves make and its children running in
# the step's process group, whose leader is gone. The store knows that
# group within a second of the step's start, and the next daemon kills
# what is left of it (build_kill_group), then completes the job.
#
# No kernel and no QEMU: the tree is a tiny git repository whose Makefile
# plays the kernel (tinyconfig, olddefconfig, bzImage), and whose first
# bzImage runs a sub-make that sleeps; the matrix has no cells.
. "$(dirname "$0")/lib.sh"

repo=$TMP/linux
state=$TMP/state
db=$state/hvmatrix.db
# In the build's own directory: the only place its sandbox lets it write.
slept=$state/build/fake/tiny/slept-once
started=$state/build/fake/tiny/make-started
export HVMATRIX_CCACHE=$TMP/ccache
mkdir -p "$repo"
# $(O) and the recipes as the kernel's own: make -C SRC O=OUT.
cat > "$repo/Makefile" <<MAKE
O ?= .
tinyconfig:
	echo CONFIG_FAKE=y > \$(O)/.config
olddefconfig:
	test -f \$(O)/.config
bzImage:
	if [ ! -e $slept ]; then touch $slept; \$(MAKE) sleeper; fi
	mkdir -p \$(O)/arch/x86/boot
	echo image > \$(O)/arch/x86/boot/bzImage
sleeper:
	touch $started
	sleep 300
MAKE
git -C "$repo" init -q -b master
git -C "$repo" add Makefile
git -C "$repo" -c user.name=t -c user.email=t@example.invalid \
	commit -q -m "a fake kernel"
cat > "$TMP/matrix.yaml" <<YAML
trees:
  - name: fake
    path: $repo
    branches: [master]
    first: 1
builds:
  - name: tiny
    base: tinyconfig
cells: []
YAML

old_group=
cleanup_group() {
	[ -n "$old_group" ] && kill -KILL -- "-$old_group" 2>/dev/null
	cleanup
}
trap cleanup_group EXIT

"$HVM" daemon --matrix "$TMP/matrix.yaml" --state "$state" --until-idle \
	> "$TMP/daemon1.log" 2>&1 &
pid=$!
check "the make step starts its sleeping sub-make" wait_for 120 \
	test -e "$started"
# The group the step really runs in: its trampoline's pid (the group's
# leader), whose command line names this test's state directory.
trampoline() { pgrep -f "__exec-group .*$state/.* bzImage" | head -1; }
real_group=$(trampoline)
check "the sleeping sub-make runs in the make step's group" \
	test -n "$(pgrep -g "${real_group:-0}" -x sleep)"
stored_group() {
	sqlite3 "$db" "SELECT pgid FROM jobs WHERE state = 'running'" \
		2>/dev/null
}
in_store() { [ -n "$real_group" ] && [ "$(stored_group)" = "$real_group" ]; }
check "the step's group is in the store within a second" wait_for 1 in_store

# As an OOM kill would: the trampoline and the daemon, both SIGKILLed.
# The daemon is stopped first, so that it cannot see the trampoline die
# (it would kill the group), nor the trampoline see it die (PDEATHSIG).
old_group=$real_group
kill -STOP "$pid"
kill -KILL "$old_group"
{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
# Zombies do not count: they only wait for init to reap them.
group_alive() {
	[ -n "$(ps -eo pgid=,stat= |
		awk -v g="$old_group" '$1 == g && $2 !~ /^Z/')" ]
}
check "make and sleep of the old group outlive both (the case at hand)" \
	group_alive
leader_gone() { ! kill -0 "$old_group" 2>/dev/null; }
check "its leader, the trampoline, is gone" wait_for 5 leader_gone

rc=0
timeout 120 "$HVM" daemon --matrix "$TMP/matrix.yaml" --state "$state" \
	--until-idle > "$TMP/daemon2.log" 2>&1 || rc=$?
group_gone() { ! group_alive; }
check "the next start leaves no process of the old group" group_gone
expect_eq "the job completes" \
	"$(sqlite3 "$db" "SELECT state FROM jobs")" done
expect_eq "its build is recorded OK" \
	"$(sqlite3 "$db" "SELECT group_concat(status) FROM builds")" OK
expect_eq "the restarted daemon exits 0" "$rc" 0
if [ "$t_failed" -gt 0 ]; then
	for f in "$TMP"/daemon*.log; do
		echo "# $f:"
		sed 's/^/#   /' "$f" | tail -20
	done
fi
finish
