#!/usr/bin/env bash
# Integration: kill -9 (and SIGTERM) of a running `hvmatrix boot` leaves
# no QEMU process behind and loses no recorded result.
. "$(dirname "$0")/lib.sh"
need_kernel

matrix=$FIXTURES/matrix-kill.yaml

qemu_running() { [ -n "$(pgrep -f "qemu-system.*$TMP/")" ]; }
no_qemu() { [ -z "$(pgrep -f "qemu-system.*$TMP/")" ]; }
recorded() {
	[ "$("$HVM" results --json --state "$1" | jq length)" -ge "$2" ]
}

for sig in KILL TERM; do
	state=$TMP/state-$sig
	"$HVM" boot --kernel "$KERNEL" --matrix "$matrix" --jobs 1 \
		--state "$state" > "$TMP/boot-$sig.out" 2>&1 &
	pid=$!
	check "SIG$sig: the quick cell is recorded first" \
		wait_for 300 recorded "$state" 1
	check "SIG$sig: the long cell's QEMU is running" wait_for 60 qemu_running
	kill -"$sig" "$pid"
	rc=0
	wait "$pid" || rc=$?
	if [ "$sig" = TERM ]; then
		expect_eq "SIGTERM: hvmatrix exits 130 (interrupted)" "$rc" 130
	fi
	check "SIG$sig: no QEMU left behind" wait_for 10 no_qemu
	expect_eq "SIG$sig: the PASS recorded before the kill is kept" \
		"$("$HVM" results --json --state "$state" | jq -r '.[0].cell + " " + .[0].verdict')" \
		"quick PASS"
	expect_eq "SIG$sig: the interrupted run is not recorded as a verdict" \
		"$("$HVM" results --json --state "$state" | jq length)" 1
done
expect_eq "nothing of this test is left running" "$(leftovers)" ""
finish
