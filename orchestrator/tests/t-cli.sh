#!/usr/bin/env bash
# Integration: the CLI contract without booting anything: --help on every
# command, exit codes, file:line:col errors for bad matrices, matrix
# editing that keeps comments and order, ERROR for a missing image,
# readers on an empty store, `status` from a daemon's status file, the
# KVM probe announced only when it really probes.
. "$(dirname "$0")/lib.sh"

st() { "$@" > "$TMP/out" 2> "$TMP/err"; echo $?; }

expect_eq "hvmatrix --help exits 0" "$(st "$HVM" --help)" 0
for c in boot matrix results dashboard "matrix add" "matrix list" \
	 "matrix show" "matrix remove" "matrix check" daemon run status; do
	# shellcheck disable=SC2086
	rc=$(st "$HVM" $c --help)
	check "'hvmatrix $c --help' exits 0 and prints usage" \
		test "$rc" = 0 -a -s "$TMP/out"
	check "'hvmatrix $c --help' mentions usage" grep -qi usage "$TMP/out"
done
expect_eq "unknown command exits 2" "$(st "$HVM" frobnicate)" 2
expect_eq "boot without --kernel exits 2" "$(st "$HVM" boot)" 2
expect_eq "boot --jobs 0 exits 2" "$(st "$HVM" boot --kernel x --jobs 0)" 2
expect_eq "run without --tree/--rev exits 2" "$(st "$HVM" run)" 2
expect_eq "run of a tree the matrix lacks exits 2" \
	"$(st "$HVM" run --tree nosuch --rev HEAD)" 2
check "run names the missing tree" grep -q "no tree 'nosuch'" "$TMP/err"
nobuild=$TMP/nobuild.yaml
printf 'trees:\n  - name: t\n    path: /nonexistent\ncells: []\n' > "$nobuild"
expect_eq "daemon without build configs exits 2" \
	"$(st "$HVM" daemon --matrix "$nobuild" --until-idle)" 2
check "daemon says what the matrix lacks" grep -q "no build configs" "$TMP/err"

# A malformed matrix: the error names file, line and column.
bad=$TMP/bad.yaml
printf 'cells:\n  - name: a\n    machine: pc\n    memroy: 256\n' > "$bad"
expect_eq "matrix check of a bad file exits 2" "$(st "$HVM" matrix check "$bad")" 2
check "error is file:line:col: unknown key" \
	grep -q "^$bad:4:5: unknown key 'memroy'" "$TMP/err" "$TMP/out"
expect_eq "boot refuses the bad matrix with exit 2" \
	"$(st "$HVM" boot --kernel /nonexistent --matrix "$bad")" 2
check "boot names file:line:col" grep -q "^$bad:4:5:" "$TMP/err"
printf 'cells:\n  - name: a\n    memory: [1, 2]\n  - name: a\n' > "$bad"
st "$HVM" matrix check "$bad" > /dev/null
check "wrong type is reported at its line and column" \
	grep -q "^$bad:3:13:" "$TMP/err" "$TMP/out"
printf 'cells:\n  - name: a\n  - name: b\n    timeout: "x\n' > "$bad"
st "$HVM" matrix check "$bad" > /dev/null
check "YAML syntax errors carry a position" \
	grep -qE "^$bad:[0-9]+:[0-9]+: " "$TMP/err" "$TMP/out"

# Editing keeps every existing line, comments included.
m=$TMP/m.yaml
cp "$top_srcdir/matrices/default.yaml" "$m"
cp "$m" "$TMP/orig.yaml"
expect_eq "matrix add exits 0" "$(st "$HVM" matrix add old-pc --file "$m" \
	--machine pc-i440fx-2.4 --cpu qemu64 --memory 512 \
	--qemu-arg -device --qemu-arg "isa-debug-exit" \
	--expect hypervisor=none)" 0
check "matrix add only adds lines" \
	bash -c '! diff "$1" "$2" | grep -q "^<"' _ "$TMP/orig.yaml" "$m"
check "matrix add keeps the comments" \
	test "$(grep -c '#' "$TMP/orig.yaml")" = "$(grep -c '#' "$m")"
expect_eq "the file still checks" "$(st "$HVM" matrix check "$m")" 0
expect_eq "matrix show --json has the new cell's machine" \
	"$("$HVM" matrix show old-pc --file "$m" --json | jq -r .machine)" \
	pc-i440fx-2.4
expect_eq "qemu args kept in order" \
	"$("$HVM" matrix show old-pc --file "$m" --json | jq -c .qemu_args)" \
	'["-device","isa-debug-exit"]'
expect_eq "matrix list --json lists one cell more than before" \
	"$("$HVM" matrix list --file "$m" --json | jq length)" \
	$(( $("$HVM" matrix list --file "$TMP/orig.yaml" --json | jq length) + 1 ))
cp "$m" "$TMP/before-dup.yaml"
expect_eq "a duplicate name is refused with exit 2" \
	"$(st "$HVM" matrix add old-pc --file "$m")" 2
check "the refused add left the file unchanged" cmp -s "$m" "$TMP/before-dup.yaml"
expect_eq "a bad value is refused with exit 2" \
	"$(st "$HVM" matrix add x --file "$m" --memory lots)" 2
check "the message names the option" grep -q -- "--memory" "$TMP/err"
expect_eq "matrix remove exits 0" "$(st "$HVM" matrix remove old-pc --file "$m")" 0
check "remove restores the original file" cmp -s "$m" "$TMP/orig.yaml"
expect_eq "removing an unknown cell exits 2" \
	"$(st "$HVM" matrix remove nope --file "$m")" 2

# One name for the matrix file: --matrix everywhere, --file and -f kept.
expect_eq "matrix add --matrix exits 0" \
	"$(st "$HVM" matrix add via-matrix --matrix "$m" --machine q35)" 0
expect_eq "matrix show --matrix finds it" \
	"$("$HVM" matrix show via-matrix --matrix "$m" --json | jq -r .machine)" q35
expect_eq "matrix show -f finds it" \
	"$("$HVM" matrix show via-matrix -f "$m" --json | jq -r .name)" via-matrix
expect_eq "matrix list --matrix and --file agree" \
	"$("$HVM" matrix list --matrix "$m" --json | jq length)" \
	"$("$HVM" matrix list --file "$m" --json | jq length)"
expect_eq "matrix remove --matrix exits 0" \
	"$(st "$HVM" matrix remove via-matrix --matrix "$m")" 0
check "remove --matrix restores the original file" cmp -s "$m" "$TMP/orig.yaml"
for c in add list show remove; do
	"$HVM" matrix $c --help > "$TMP/out"
	check "'matrix $c --help' names --matrix FILE" \
		grep -q -- "--matrix FILE" "$TMP/out"
done

# The store, empty: readers treat no store as an empty one and create
# nothing.
expect_eq "results on an empty store exits 0" "$(st "$HVM" results)" 0
expect_eq "results --json on an empty store is []" \
	"$("$HVM" results --json | jq -c .)" "[]"
expect_eq "results --commits --json on an empty store is []" \
	"$("$HVM" results --commits --json | jq -c .)" "[]"
expect_eq "status on an empty store exits 0" "$(st "$HVM" status)" 0
check "status says nothing is recorded" grep -q "nothing recorded" "$TMP/out"
expect_eq "status --json on an empty store: no daemon, no runs" \
	"$("$HVM" status --json | jq -c '[.daemon, .queue, .recent]')" \
	'[null,[],[]]'
expect_eq "dashboard on an empty store exits 0" "$(st "$HVM" dashboard)" 0
check "the readers created no state directory" test ! -e "$HVMATRIX_STATE"

# status from a daemon's status file (input written here by hand) and
# its lock (held here with flock, as a running daemon holds it).
sd=$TMP/sd
mkdir -p "$sd"
other=$TMP/other.yaml
printf 'trees:\n  - name: othertree\n    path: /nonexistent\n  - name: private\n    url: https://u:SECRET1@git.example/x.git?private_token=SECRET2\nbuilds:\n  - name: tiny\n    base: tinyconfig\ncells: []\n' > "$other"
now=$(date +%s)
cat > "$sd/daemon.json" <<EOF
{"pid": 26016, "updated_at": $now.446, "matrix": "$other",
 "stopping": false, "paused": null,
 "loop": {"worst_lag_ms": 3.2, "window_s": 60},
 "job": {"tree": "demo", "commit": "9568ec3c0123456789abcdef", "build": "tiny",
         "subject": "Linux 6.1.192", "stage": "make", "started_at": $((now - 29))},
 "jobs": [{"tree": "demo", "commit": "9568ec3c0123456789abcdef", "build": "tiny",
           "subject": "Linux 6.1.192", "stage": "make", "started_at": $((now - 29))},
          {"tree": "demo", "commit": "0123456789abcdef", "build": "tiny",
           "subject": "second", "stage": "boot", "started_at": $((now - 64))}]}
EOF
"$HVM" status --state "$sd" > "$TMP/out"
check "without the lock the daemon is not running, last seen at a time" \
	grep -qE "^daemon: not running \(last seen [0-9]{2}:[0-9]{2}:[0-9]{2} UTC\)" "$TMP/out"
check "without the lock the default matrix's trees are shown" \
	grep -q "^  demo " "$TMP/out"
exec 9> "$sd/daemon.lock"
flock -n 9
"$HVM" status --state "$sd" > "$TMP/out" 9>&-
expect_eq "the daemon line is for people" "$(sed -n 1p "$TMP/out")" \
	"daemon: running, pid 26016, matrix $other, loop lag worst 3 ms (60 s)"
check "the running build: tree, commit, subject, stage, elapsed" \
	grep -qE '^  building demo 9568ec3c "Linux 6.1.192": make, (29|30|31) s$' "$TMP/out"
check "a boot is 'booting'" \
	grep -qE '^  booting demo 01234567 "second": 1 min (4|5|6) s$' "$TMP/out"
check "no epoch time is printed" bash -c '! grep -q "$1" "$2"' _ "$now" "$TMP/out"
check "the trees are those of the matrix the daemon runs" \
	grep -q "^  othertree " "$TMP/out"
check "... not those of the default matrix" \
	bash -c '! grep -q "^  demo " "$1"' _ "$TMP/out"
check "a tree URL is shown without its userinfo and query" \
	grep -q "^  private .*(https://git.example/x.git)$" "$TMP/out"
check "... and its token nowhere" bash -c '! grep -q SECRET "$1"' _ "$TMP/out"
"$HVM" status --state "$sd" --matrix "$top_srcdir/matrices/default.yaml" \
	> "$TMP/out" 9>&-
check "--matrix still chooses the trees" grep -q "^  demo " "$TMP/out"
"$HVM" status --state "$sd" --json > "$TMP/status.json" 9>&-
expect_eq "status --json passes the daemon's object through unchanged" \
	"$(jq -S -c .daemon "$TMP/status.json")" "$(jq -S -c . "$sd/daemon.json")"
expect_eq "status --json lists the daemon matrix's trees" \
	"$(jq -r '.trees[0].tree' "$TMP/status.json")" othertree
expect_eq "status --json shows a tree URL without its token" \
	"$(jq -r '.trees[1].source' "$TMP/status.json")" \
	https://git.example/x.git
echo '{"pid": 7, "paused": "store: disk full"}' > "$sd/daemon.json"
expect_eq "an older, sparser status file does not break status" \
	"$(st "$HVM" status --state "$sd" 9>&-)" 0
check "... it shows what there is" grep -q "^daemon: running, pid 7$" "$TMP/out"
check "a paused daemon says why" grep -q "^paused: store: disk full$" "$TMP/out"
echo '{"pid": "x", "jobs": 3, "loop": [], "matrix": 7, "job": "y"}' > "$sd/daemon.json"
expect_eq "members of the wrong type do not break status" \
	"$(st "$HVM" status --state "$sd" 9>&-)" 0
echo '{"pid": 7, "jobs": [' > "$sd/daemon.json"
expect_eq "a torn status file does not break status --json" \
	"$("$HVM" status --state "$sd" --json 9>&- | jq -c .daemon)" "{}"
expect_eq "run is refused while a daemon holds the lock (exit 3)" \
	"$(st "$HVM" run --state "$sd" --tree demo --rev HEAD 9>&-)" 3
check "... saying a daemon works there" grep -q "a daemon .*works on $sd" "$TMP/err"
check "... before queueing anything" test ! -e "$sd/hvmatrix.db"
expect_eq "a second daemon is refused too" \
	"$(st "$HVM" daemon --state "$sd" --until-idle 9>&-)" 3
exec 9>&-

# KVM is probed once per host boot, and only a real probe says so. The
# cell's "QEMU" does not exist, so the probe's boot fails at once.
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	kvm=$TMP/kvm.yaml
	printf 'cells:\n  - name: kvmx\n    qemu: %s\n    accel: kvm\n    requires: [kvm]\n' \
		"$TMP/no-qemu" > "$kvm"
	echo fake > "$TMP/fake-bzImage"
	HVMATRIX_CACHE=$TMP/probe-cache "$HVM" boot --kernel "$TMP/fake-bzImage" \
		--matrix "$kvm" --state "$TMP/kvmstate" --json > "$TMP/out" 2> "$TMP/err"
	check "the first boot probes KVM and says so" \
		grep -q "probing KVM (once per host boot)" "$TMP/err"
	expect_eq "the cell is SKIP" "$(jq -r '.[0].verdict' "$TMP/out")" SKIP
	HVMATRIX_CACHE=$TMP/probe-cache "$HVM" boot --kernel "$TMP/fake-bzImage" \
		--matrix "$kvm" --state "$TMP/kvmstate" --json > "$TMP/out" 2> "$TMP/err"
	check "the second uses the cached answer and says nothing of probing" \
		bash -c '! grep -q "probing KVM" "$1"' _ "$TMP/err"
	expect_eq "the cell is SKIP again" "$(jq -r '.[0].verdict' "$TMP/out")" SKIP
	check "... with the cached reason" grep -q "KVM test boot failed" "$TMP/out"
else
	echo "# /dev/kvm not usable here: no probe runs, nothing to announce"
fi

# A missing kernel image is the farm's ERROR (exit 3), not a FAIL.
expect_eq "boot with a missing kernel exits 3" \
	"$(st "$HVM" boot --kernel "$TMP/no-such-bzImage" --cell 'q35-7.2' \
		--matrix "$top_srcdir/matrices/default.yaml" --json)" 3
expect_eq "the cell is ERROR" "$(jq -r '.[0].verdict' "$TMP/out")" ERROR
check "the reason names the image" \
	grep -q "no-such-bzImage" "$TMP/out"
expect_eq "the ERROR is recorded" \
	"$("$HVM" results --json | jq -r '.[0].verdict')" ERROR
(cd "$TMP" && "$HVM" boot --kernel no-such-bzImage --cell q35-7.2 \
	--matrix "$top_srcdir/matrices/default.yaml" --state rel --json \
	> "$TMP/out" 2> /dev/null)
check "a relative --state still records an absolute log path" \
	contains "$(jq -r '.[0].log' "$TMP/out")" "$(cd "$TMP" && pwd -P)/rel/logs/"
# --dry-run over the default matrix: a command line per QEMU cell, a
# comment per libxl guest (no QEMU of its own), never a crash.
rc=0
"$HVM" boot --kernel /dev/null --matrix "$top_srcdir/matrices/default.yaml" \
	--dry-run > "$TMP/dry" 2>&1 || rc=$?
expect_eq "boot --dry-run over the default matrix: exit 0" "$rc" 0
expect_eq "... one line per cell" "$(wc -l < "$TMP/dry")" \
	"$("$HVM" matrix list --matrix "$top_srcdir/matrices/default.yaml" --json | jq length)"
check "... a libxl guest is named, not run" \
	grep -q "^# xen-4.17-libxl-pv: a libxl guest" "$TMP/dry"
finish
