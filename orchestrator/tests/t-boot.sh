#!/usr/bin/env bash
# Integration: boot a real kernel under real QEMU in cells whose verdicts
# are known (PASS, FAIL for several reasons, ERROR, SKIP) and check each
# verdict, its reason, how fast failures end, the store and the dashboard.
. "$(dirname "$0")/lib.sh"
need_kernel

matrix=$FIXTURES/matrix-boot.yaml
rc=0
"$HVM" boot --kernel "$KERNEL" --matrix "$matrix" --jobs 2 --json \
	> "$TMP/out.json" 2> "$TMP/progress" || rc=$?
cat "$TMP/progress" | sed 's/^/# /'
expect_eq "exit code 1 when a cell FAILs" "$rc" 1
check "output is one JSON array of 10 results" \
	test "$(jq length "$TMP/out.json")" = 10

field() { jq -r --arg c "$1" ".[] | select(.cell == \$c) | .$2" "$TMP/out.json"; }
verdict() { field "$1" verdict; }
secs() { field "$1" duration_s | cut -d. -f1; }

for c in pass-i440fx-7.2 pass-q35-2.4 pass-vmware; do
	expect_eq "$c: PASS" "$(verdict $c)" PASS
	log=$(field $c log)
	nonce=$(field $c nonce)
	check "$c: log holds the marker with this run's nonce" \
		grep -q "^HVMATRIX-OK nonce=$nonce" "$log"
done
check "pass-vmware: the guest really ran on the VMware interface" \
	grep -q "Hypervisor detected: VMware" "$(field pass-vmware log)"

expect_eq "fail-wrong-hypervisor: FAIL" "$(verdict fail-wrong-hypervisor)" FAIL
check "fail-wrong-hypervisor: reason names the missing report" \
	contains "$(field fail-wrong-hypervisor reason)" "Hypervisor detected: VMware"

expect_eq "fail-panic: FAIL" "$(verdict fail-panic)" FAIL
expect_eq "fail-panic: reason" "$(field fail-panic reason)" "kernel panic"
check "fail-panic: deciding line is the panic" \
	contains "$(field fail-panic line)" "Kernel panic - not syncing"
check "fail-panic: judged in seconds (<120 s of a 600 s timeout)" \
	test "$(secs fail-panic)" -lt 120

expect_eq "fail-old-machine-cpu-max: FAIL" \
	"$(verdict fail-old-machine-cpu-max)" FAIL
check "fail-old-machine-cpu-max: decided on 'Unable to boot'" \
	contains "$(field fail-old-machine-cpu-max line)" "Unable to boot"
check "fail-old-machine-cpu-max: ended at once (<60 s; the kernel hangs)" \
	test "$(secs fail-old-machine-cpu-max)" -lt 60

expect_eq "fail-silent: FAIL" "$(verdict fail-silent)" FAIL
check "fail-silent: silence watchdog decided it" \
	contains "$(field fail-silent reason)" "no console output for 5 s"
check "fail-silent: ended by the watchdog, not the 600 s timeout" \
	test "$(secs fail-silent)" -lt 60

expect_eq "error-unknown-machine: ERROR" "$(verdict error-unknown-machine)" ERROR
check "error-unknown-machine: QEMU's own complaint is the line" \
	contains "$(field error-unknown-machine line)" "machine"
expect_eq "error-no-qemu: ERROR" "$(verdict error-no-qemu)" ERROR
check "error-no-qemu: reason says QEMU could not run" \
	contains "$(field error-no-qemu reason)" "cannot run qemu-system-hvmatrix-missing"

# Here /dev/kvm exists but guests hang: the cell must SKIP, never FAIL.
# Where KVM works, the same cell must PASS.
kv=$(verdict skip-kvm)
if [ "$kv" = SKIP ]; then
	check "skip-kvm: SKIP names KVM as the reason" \
		contains "$(field skip-kvm reason)" "KVM"
else
	expect_eq "skip-kvm: PASS on a host with working KVM" "$kv" PASS
fi

# The store has every run, with the same verdicts.
"$HVM" results --json > "$TMP/results.json"
expect_eq "store holds the 10 runs" "$(jq length "$TMP/results.json")" 10
expect_eq "store agrees on fail-panic" \
	"$(jq -r '.[] | select(.cell == "fail-panic") | .verdict' "$TMP/results.json")" FAIL
check "store knows the kernel's release" \
	contains "$(jq -r '.[0].kernel_version' "$TMP/results.json")" "6.1"

# The dashboard shows every cell and links the logs.
"$HVM" dashboard --out "$TMP/site" > "$TMP/dash.out"
check "dashboard prints where index.html is" \
	grep -q "dashboard: $TMP/site/index.html" "$TMP/dash.out"
check "dashboard grid names every cell" \
	bash -c 'for c in $(jq -r ".[].cell" "$1"); do
		grep -q -- "$c" "$2" || exit 1; done' _ "$TMP/out.json" \
	"$TMP/site/index.html"
check "dashboard links copied logs" \
	test "$(ls "$TMP/site/logs" | wc -l)" -ge 10

# --dry-run shows the argv it would run, and runs nothing.
"$HVM" boot --kernel "$KERNEL" --matrix "$matrix" --cell 'pass-vm*' \
	--dry-run > "$TMP/dry"
check "--dry-run prints the VMware cell's QEMU command line" \
	grep -q -- "-machine pc,vmport=on -cpu max,-hypervisor .*-smbios" "$TMP/dry"
expect_eq "--dry-run with --cell selects one cell" "$(wc -l < "$TMP/dry")" 1

expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
