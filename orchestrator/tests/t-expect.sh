#!/usr/bin/env bash
# Integration: a cell's expectations checked from facts, not words (a PVH
# dom0 of the good test kernel passes [hypervisor=xen, guest_type=PVH],
# its payload's fact line in the log), and an image the hypervisor cannot
# load: one FAIL named image-unloadable with the hypervisor's own line, as
# Xen 4.17's dom0 and under QEMU's -kernel alike, in seconds.
. "$(dirname "$0")/lib.sh"
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
if [ ! -f "$HVMATRIX_XEN_DIR/4.17/complete" ]; then
	echo "not ok 1 - no Xen 4.17 build in $HVMATRIX_XEN_DIR (tools/setup.sh)"
	exit 99
fi
test_kernels

cat > "$TMP/pvh.yaml" <<'YAML'
cells:
  - name: pvh-dom0-facts
    backend: xen
    xen: "4.17"
    machine: q35
    cpu: max,-smap,-smep,-pku,-la57,-rdtscp
    memory: 1024
    qemu_args: [-device, amd-iommu]
    xen_cmdline: dom0=pvh dom0_mem=512M,max:512M
    expect: [hypervisor=xen, guest_type=PVH]
YAML
rc=0
"$HVM" boot --kernel "$good" --matrix "$TMP/pvh.yaml" --json \
	> "$TMP/pvh.json" 2> "$TMP/progress" || rc=$?
sed 's/^/# /' "$TMP/progress"
pvh() { jq -r ".[0].$1" "$TMP/pvh.json"; }
expect_eq "pvh-dom0-facts: PASS" "$(pvh verdict)" PASS
expect_eq "exit code 0" "$rc" 0
check "pvh-dom0-facts: the payload said guest_type=PVH from sysfs" \
	grep -q "^HVMATRIX-FACT nonce=.* hypervisor=xen .*guest_type=PVH guest_type_from=sysfs" \
	<(log_text "$(pvh log)")

# Not a kernel at all: Xen's dom0 builder and QEMU's loader refuse it.
# Zeros, not random bytes: Xen reads a compressed image's size from its
# last four bytes, and random ones ask more memory than there is (a Xen
# panic of its own, "Not enough memory to relocate the dom0 kernel").
head -c 200000 /dev/zero > "$TMP/garbage"
cat > "$TMP/bad.yaml" <<'YAML'
cells:
  - name: xen-pv-dom0
    backend: xen
    xen: "4.17"
    cpu: max,-smap,-smep,-pku,-la57
    memory: 1024
    expect: [hypervisor=xen, guest_type=PV]
  - name: plain
    expect: hypervisor=none
YAML
rc=0
"$HVM" boot --kernel "$TMP/garbage" --matrix "$TMP/bad.yaml" --json \
	> "$TMP/bad.json" 2> "$TMP/progress" || rc=$?
sed 's/^/# /' "$TMP/progress"
bad() { jq -r --arg c "$1" ".[] | select(.cell == \$c) | .$2" "$TMP/bad.json"; }
# what each run said, and its log's end, for a failure's reader
say() {
	jq -r '.[] | "\(.cell): \(.verdict): \(.reason) | \(.line)"' "$1" |
		sed 's/^/# /'
	jq -r '.[].log' "$1" | while read -r l; do
		log_text "$l" | tail -n 12 | sed 's/^/#   /'
	done
}
say "$TMP/bad.json"
expect_eq "exit code 1 (FAIL cells)" "$rc" 1
for c in xen-pv-dom0 plain; do
	expect_eq "$c: FAIL" "$(bad $c verdict)" FAIL
	check "$c: named image-unloadable" \
		contains "$(bad $c reason)" "image-unloadable: "
	check "$c: in seconds (<120 s)" \
		test "$(bad $c duration_s | cut -d. -f1)" -lt 120
done
check "xen-pv-dom0: Xen's own line decided it" \
	contains "$(bad xen-pv-dom0 line)" "ELF: not an ELF binary"
check "plain: QEMU's own line decided it" \
	contains "$(bad plain line)" "too old to load a ram disk"

# A "kernel" that resets before printing anything: a 64-byte multiboot
# image (QEMU's -kernel loads it) whose entry loads an empty IDT and
# traps: a triple fault. The run ends at its first reset, not in a reboot
# loop, decided by the CPU's state from QEMU's reset log.
printf '%b' '\x02\xb0\xad\x1b\x00\x00\x01\x00\xfe\x4f\x51\xe4' \
	'\x00\x00\x10\x00\x00\x00\x10\x00\x00\x00\x00\x00' \
	'\x00\x00\x00\x00\x20\x00\x10\x00' \
	'\x0f\x01\x1d\x30\x00\x10\x00\xcc' \
	'\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' \
	'\x00\x00\x00\x00\x00\x00\x00\x00' > "$TMP/resets"
expect_eq "the reset image is 64 bytes" "$(stat -c %s "$TMP/resets")" 64
cat > "$TMP/reset.yaml" <<'YAML'
cells:
  - name: plain
    expect: hypervisor=none
YAML
rc=0
"$HVM" boot --kernel "$TMP/resets" --matrix "$TMP/reset.yaml" --json \
	> "$TMP/reset.json" 2> "$TMP/progress" || rc=$?
sed 's/^/# /' "$TMP/progress"
rs() { jq -r ".[0].$1" "$TMP/reset.json"; }
say "$TMP/reset.json"
expect_eq "reset: FAIL" "$(rs verdict)" FAIL
check "reset: the CPU's state at the triple fault decided it" \
	contains "$(rs line)" "CPU 0 reset after a triple fault: EIP="
check "reset: the run ended at the reset (<30 s, no reboot loop)" \
	test "$(rs duration_s | cut -d. -f1)" -lt 30
check "reset: its log is not left behind" \
	test ! -e "$(rs log | sed 's/\.zst$//').reset"

expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
