#!/usr/bin/env bash
# The service files as `make install` puts them: systemd-analyze verify
# finds nothing wrong with hvmatrix.service (its commands exist, its man
# pages resolve, every setting is known), systemd-sysusers accepts the
# sysusers.d file, and the unit says what the service promises: the
# daemon as its own user, state and cache directories, reload by SIGHUP,
# stop of the whole cgroup, the Slurm shared_dir writable, how to watch a
# tree in /home, no MemoryDenyWriteExecute (QEMU TCG needs W+X memory).
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze > /dev/null || {
	echo "# SKIP: no systemd-analyze (Debian package systemd)"
	exit 77
}
root=$TMP/root
make -s -C "$top_builddir" install DESTDIR="$root" > "$TMP/install.log" 2>&1
check "make DESTDIR=... install works" test $? = 0
unit=$(find "$root" -name hvmatrix.service | head -n 1)
users=$(find "$root" -path '*sysusers.d/hvmatrix.conf' | head -n 1)
man1=$(find "$root" -name hvmatrix.1 | head -n 1)
check "the unit is installed" test -f "$unit"
check "the sysusers.d file is installed" test -f "$users"

# The unit names the installed paths; under DESTDIR they are below $root.
sed -e "s|\(ExecStart=\)\(/[^ ]*\)|\1$root\2|" \
	-e "s|\(--matrix \)\(/[^ ]*\)|\1$root\2|" "$unit" > "$TMP/hvmatrix.service"
check "the unit's binary is the installed one" \
	test -x "$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$TMP/hvmatrix.service")"
MANPATH=$(dirname "$(dirname "$man1")") \
	systemd-analyze verify "$TMP/hvmatrix.service" > "$TMP/verify.log" 2>&1
rc=$?
expect_eq "systemd-analyze verify: clean" "$rc:$(cat "$TMP/verify.log")" "0:"
systemd-sysusers --root="$TMP/sysroot" --dry-run "$users" \
	> "$TMP/sysusers.log" 2>&1
check "systemd-sysusers accepts the file" test $? = 0
check "  and would create the user hvmatrix" \
	grep -q "Creating user 'hvmatrix'" "$TMP/sysusers.log"

key() { sed -n "s/^$1=//p" "$unit"; }
expect_eq "runs 'hvmatrix daemon'" \
	"$(key ExecStart | awk '{ print $2 }')" daemon
expect_eq "as the user hvmatrix" "$(key User)" hvmatrix
expect_eq "StateDirectory" "$(key StateDirectory)" hvmatrix
expect_eq "CacheDirectory" "$(key CacheDirectory)" hvmatrix
expect_eq "reload is SIGHUP" "$(key ExecReload)" 'kill -HUP $MAINPID'
expect_eq "stop ends the whole cgroup" "$(key KillMode)" control-group
expect_eq "the Slurm shared_dir of docs/slurm.md is writable" \
	"$(key ReadWritePaths)" "-/srv/hvmatrix"
check "the unit says how to watch another user's tree (safe.directory)" \
	grep -q "safe.directory" "$unit"
check "MemoryDenyWriteExecute is not set (TCG)" \
	sh -c "! grep -q '^MemoryDenyWriteExecute=yes' '$unit'"
if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
	systemd-analyze security --offline=yes "$TMP/hvmatrix.service" \
		> "$TMP/security.log" 2>&1
	level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
		"$TMP/security.log")
	echo "# systemd-analyze security: exposure $level"
	check "exposure level under 5 (systemd's 'OK' and better)" \
		awk -v l="$level" 'BEGIN { exit !(l != "" && l < 5) }'
fi
finish
