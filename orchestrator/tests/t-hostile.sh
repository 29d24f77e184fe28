#!/usr/bin/env bash
# Integration: a hostile commit. Its Makefile tries the network (a local
# TCP port this test listens on, and 1.1.1.1:80), writes outside its build
# directory (the state directory, $HOME, /tmp), reads a webhook's secret
# file, its secret_env and the store, leaves processes behind (one in its
# group, one setsid'd) and prints 2 GB. The same commit is built twice by
# one daemon: by build `boxed` (sandboxed, the default), where every
# attempt must fail, and by build `open` (sandbox: false), the control,
# where the attempts that only the sandbox stops must succeed, so that
# each check below could fail. The environment allow-list holds for both.
#
# No kernel and no QEMU: the Makefile plays the kernel and the matrix has
# no cells.
. "$(dirname "$0")/lib.sh"

repo=$TMP/linux
state=$TMP/state
db=$state/hvmatrix.db
# Outside /tmp (private in the sandbox) and the state directory (hidden):
# only the read-only view and the covered secret keep these safe.
home=$(mktemp -d /var/tmp/hvm-hostile-home.XXXXXX)
secret_file=$home/hook-secret
secret_value=file-secret-$RANDOM$RANDOM
env_value=env-secret-$RANDOM$RANDOM
# Unique sleep lengths: a process left behind is found by its argv.
base=$((400000 + ($$ % 10000) * 4))
export HVMATRIX_CCACHE=$TMP/ccache
export HVM_HOSTILE_HOOK_KEY=$env_value
printf '%s\n' "$secret_value" > "$secret_file"
chmod 600 "$secret_file"

cleanup_hostile() {
	pkill -KILL -f "^sleep ($base|$((base + 1))|$((base + 2))|$((base + 3)))\$" \
		2>/dev/null
	[ -n "${listener:-}" ] && kill "$listener" 2>/dev/null
	rm -rf "$home"
	cleanup
}
trap cleanup_hostile EXIT

# A local port: whoever connects and sends a line, the line is kept.
python3 - "$TMP/port" "$TMP/heard" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    c.settimeout(5)
    try:
        data = c.recv(4096)
    except OSError:
        data = b"?"
    with open(sys.argv[2], "ab") as f:
        f.write(data)
    c.close()
PY
listener=$!
wait_for 10 test -s "$TMP/port" || { echo "not ok 1 - no listener"; exit 99; }
port=$(cat "$TMP/port")

mkdir -p "$repo"
cat > "$repo/Makefile" <<'MK'
O ?= .
tinyconfig olddefconfig:
	mkdir -p $(O) && touch $(O)/.config
bzImage:
	sh $(CURDIR)/hostile.sh $(O)
MK
cat > "$repo/hostile.sh" <<SH
#!/bin/sh
# What a hostile commit tries; one line per attempt in \$O/tried.
O=\$1
cfg=\$(basename "\$(dirname "\$O")")
tried=\$O/tried
: > "\$tried"
say() { echo "\$1: \$2" >> "\$tried"; echo "hostile \$cfg: \$1: \$2"; }
if timeout 5 bash -c "echo \$cfg > /dev/tcp/127.0.0.1/$port" 2>/dev/null
then say net-local reached; else say net-local refused; fi
if timeout 5 bash -c "echo > /dev/tcp/1.1.1.1/80" 2>/dev/null
then say net-1.1.1.1 reached; else say net-1.1.1.1 refused; fi
for f in $state/forged-\$cfg $home/forged-\$cfg $TMP/forged-\$cfg; do
	if echo forged > "\$f" 2>/dev/null
	then say "write \$f" done; else say "write \$f" refused; fi
done
if cat $secret_file > "\$O/stolen-secret" 2>/dev/null &&
	[ -s "\$O/stolen-secret" ]
then say read-secret got; else say read-secret nothing; fi
if cp $db "\$O/stolen-store" 2>/dev/null && [ -s "\$O/stolen-store" ]
then say read-store got; else say read-store nothing; fi
env > "\$O/env"
for f in /proc/\$\$/fd/*; do
	echo "\${f##*/} \$(readlink "\$f")"
done > "\$O/fds"
if [ "\$cfg" = boxed ]; then n=$base; else n=$((base + 2)); fi
setsid sleep \$n < /dev/null > /dev/null 2>&1 &
sleep \$((n + 1)) < /dev/null > /dev/null 2>&1 &
say "left behind" "sleep \$n (setsid), sleep \$((n + 1))"
if [ "\$cfg" = boxed ]; then
	yes 'a hostile build floods its log with this line, 2 GB of it' |
		head -c 2000000000
	say flood "2 GB printed"
fi
mkdir -p "\$O/arch/x86/boot"
echo image > "\$O/arch/x86/boot/bzImage"
SH
git -C "$repo" init -q -b master
git -C "$repo" add Makefile hostile.sh
git -C "$repo" -c user.name=t -c user.email=t@example.invalid \
	commit -q -m "a hostile commit"
cat > "$TMP/matrix.yaml" <<YAML
trees:
  - name: hostile
    path: $repo
    branches: [master]
    first: 1
builds:
  - name: boxed
    base: tinyconfig
  - name: open
    base: tinyconfig
    sandbox: false
webhooks:
  - url: http://127.0.0.1:9/file
    secret_file: $secret_file
  - url: http://127.0.0.1:9/env
    secret_env: HVM_HOSTILE_HOOK_KEY
cells: []
YAML

rc=0
HOME=$home timeout 600 "$HVM" daemon --matrix "$TMP/matrix.yaml" \
	--state "$state" --until-idle > "$TMP/daemon.log" 2>&1 || rc=$?
out() { echo "$state/build/hostile/$1/out"; }
for cfg in boxed open; do
	echo "# $cfg tried:"
	sed "s/^/#   /" "$(out $cfg)/tried" 2>/dev/null
done

# ---- the farm survived ------------------------------------------------
expect_eq "the daemon ends its run (exit 0)" "$rc" 0
expect_eq "both builds are recorded OK" \
	"$(sqlite3 "$db" "SELECT group_concat(build || '=' || status, ' ') FROM (SELECT build, status FROM builds ORDER BY build)" 2>&1)" \
	"boxed=OK open=OK"
expect_eq "the store is intact" \
	"$(sqlite3 "$db" "PRAGMA integrity_check" 2>&1)" ok
log=$(ls "$state"/logs/builds/hostile/*-boxed.log* 2>/dev/null | head -1)
echo "# the flooded build log: $(du -h "$log" 2>/dev/null | cut -f1)"
check "status names the unconfined build" \
	grep -q "unconfined builds (sandbox: false, trusted commits only): open" \
	<(HOME=$home "$HVM" status --matrix "$TMP/matrix.yaml" --state "$state")
expect_eq "status --json lists it" \
	"$(HOME=$home "$HVM" status --json --matrix "$TMP/matrix.yaml" \
		--state "$state" | jq -c .unconfined_builds)" '["open"]'

# ---- what the sandbox held (boxed), against the control (open) --------
tried() { grep -qx "$2" "$(out "$1")/tried"; }
heard() { grep -q "$1" "$TMP/heard" 2>/dev/null; }
check "boxed: connecting to a local port is refused" \
	tried boxed "net-local: refused"
check "boxed: ... and nothing reached the listener" eval '! heard boxed'
check "control: open reached the listener (the check can fail)" heard open
check "boxed: connecting to 1.1.1.1:80 is refused" \
	tried boxed "net-1.1.1.1: refused"
echo "# control: open's 1.1.1.1:80: $(grep net-1.1.1.1 "$(out open)/tried")"
for where in "$state" "$home"; do
	check "boxed: writing $where/forged-boxed is refused" \
		eval "tried boxed 'write $where/forged-boxed: refused' &&
		      [ ! -e '$where/forged-boxed' ]"
done
# The build sees /tmp read-only (its TMPDIR is its own): the write goes nowhere.
check "boxed: a file written in /tmp ($TMP/forged-boxed) never reaches the host's" \
	test ! -e "$TMP/forged-boxed"
check "control: open's did" test -e "$TMP/forged-open"
check "control: open wrote into the state directory and \$HOME" \
	eval "[ -e '$state/forged-open' ] && [ -e '$home/forged-open' ]"
check "boxed: the webhook's secret file reads as empty" \
	tried boxed "read-secret: nothing"
check "control: open read it" \
	grep -qx "$secret_value" "$(out open)/stolen-secret"
check "boxed: the store cannot be read" tried boxed "read-store: nothing"
check "control: open copied the store" tried open "read-store: got"
for cfg in boxed open; do
	check "$cfg: the secret_env value is in no build's environment" \
		eval "[ -s '$(out $cfg)/env' ] &&
		      ! grep -q '$env_value' '$(out $cfg)/env' &&
		      ! grep -q HVM_HOSTILE_HOOK_KEY '$(out $cfg)/env'"
done
# The daemon holds libcurl's sockets (two webhooks): none reaches a build.
for cfg in boxed open; do
	check "$cfg: the build's shell holds no socket of the daemon's" \
		eval "[ -s '$(out $cfg)/fds' ] && ! grep -q socket: '$(out $cfg)/fds'"
done
echo "# boxed's fds: $(tr '\n' ' ' < "$(out boxed)/fds" 2>/dev/null)"
alive() { pgrep -f "^sleep $1\$" > /dev/null; }
gone() { ! alive "$1"; }
check "boxed: the setsid'd process did not outlive the build" \
	wait_for 5 gone "$base"
check "boxed: nor did the one in its group" wait_for 5 gone "$((base + 1))"
check "control: open's setsid'd process outlived its build" \
	alive "$((base + 2))"
if [ "$t_failed" -gt 0 ]; then
	echo "# daemon log:"
	sed 's/^/#   /' "$TMP/daemon.log" | tail -30
fi
finish
