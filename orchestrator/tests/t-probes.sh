#!/usr/bin/env bash
# Integration: the payload's probes (smp, cpu-hotplug, clock) in the cells
# whose vCPU paths differ: QEMU q35 (native APIC), Xen PV dom0 and a libxl
# PV guest (Xen's own vCPU code), a libxl PVH guest (native APIC under
# Xen), each with two vCPUs. The good test kernel passes every probe
# everywhere; xen-hotplug-broken (build-test-kernels.sh: a Xen PV vCPU
# taken offline never comes back) boots everywhere and FAILs exactly its
# cpu-hotplug probe in the Xen PV cells, judged by that probe's own line,
# while the others pass; the q35 and PVH cells PASS.
. "$(dirname "$0")/lib.sh"
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
dom0=${HVMATRIX_DOM0_4_17:-${HVMATRIX_DOM0:-$(cat \
	"$top_builddir/cache/dom0-4.17.path" \
	"$top_builddir/cache/dom0.path" 2>/dev/null | head -n 1)}}
if [ ! -f "$HVMATRIX_XEN_DIR/4.17/complete" ] || [ ! -s "$dom0" ]; then
	echo "not ok 1 - no Xen 4.17 build or dom0 image (tools/setup.sh)"
	exit 99
fi
kernels=$(sh "$top_srcdir/images/kernels/build-test-kernels.sh" \
	"$top_builddir/cache" 2> "$TMP/build.err") || {
	sed 's/^/# /' "$TMP/build.err"
	echo "not ok 1 - cannot build the test kernels"
	exit 99
}
good=$(echo "$kernels" | grep '/good\.bzImage$')
broken=$(echo "$kernels" | grep '/xen-hotplug-broken\.bzImage$')
if [ ! -r "$good" ] || [ ! -r "$broken" ]; then
	echo "not ok 1 - build-test-kernels.sh listed no good or xen-hotplug-broken kernel"
	exit 99
fi

# The probes are named in every cell: the libxl default adds suspend,
# which is not what this test is about.
xen_cpu=max,-smap,-smep,-pku,-la57
cat > "$TMP/matrix.yaml" <<YAML
cells:
  - name: q35
    machine: pc-q35-7.2
    smp: 2
    probes: [smp, cpu-hotplug, clock]
    expect: hypervisor=none
  - name: xen-pv-dom0
    backend: xen
    xen: "4.17"
    cpu: $xen_cpu
    memory: 1024
    smp: 2
    probes: [smp, cpu-hotplug, clock]
    expect: "Hypervisor detected: Xen PV"
  - name: libxl-pv
    backend: xen-libxl
    xen: "4.17"
    guest: pv
    cpu: $xen_cpu
    smp: 2
    probes: [smp, cpu-hotplug, clock]
    expect: "Hypervisor detected: Xen PV"
  # AVX hidden: under nested TCG a PVH vCPU brought back online now and
  # then cannot run AVX (glibc's __strcmp_avx2 in the payload traps as an
  # invalid opcode, init dies; seen in 2 of 3 PVH runs of the broken
  # kernel, whose change is in code PVH never runs), not what this tests.
  - name: libxl-pvh
    backend: xen-libxl
    xen: "4.17"
    guest: pvh
    cpu: $xen_cpu,-avx,-avx2
    smp: 2
    probes: [smp, cpu-hotplug, clock]
    expect: Booting kernel on Xen PVH
YAML

for k in good broken; do
	rc=0
	"$HVM" boot --kernel "$(eval echo \$$k)" --matrix "$TMP/matrix.yaml" \
		--jobs 2 --json > "$TMP/$k.json" 2> "$TMP/$k.progress" || rc=$?
	sed 's/^/# /' "$TMP/$k.progress"
	eval "rc_$k=$rc"
done
"$HVM" results --json > "$TMP/results.json"
verdicts() { jq -r '[.[] | "\(.cell)=\(.verdict)"] | join(" ")' "$TMP/$1.json"; }
# run KERNEL CELL FILTER: jq FILTER on that kernel's run in CELL.
run() {
	jq -r --arg k "$(eval echo \$$1)" --arg c "$2" \
		"[.[] | select(.cell == \$c and (.kernel_path | endswith(\$k | split(\"/\") | last)))] | first | $3" \
		"$TMP/results.json"
}
probes() { run "$1" "$2" '[.probes[] | "\(.name)=\(.result)"] | join(" ")'; }
all=(q35 xen-pv-dom0 libxl-pv libxl-pvh)

expect_eq "good kernel: exit 0" "$rc_good" 0
expect_eq "good kernel: PASS in every cell" "$(verdicts good)" \
	"q35=PASS xen-pv-dom0=PASS libxl-pv=PASS libxl-pvh=PASS"
for c in "${all[@]}"; do
	expect_eq "good kernel, $c: every probe passed" "$(probes good "$c")" \
		"smp=pass cpu-hotplug=pass clock=pass"
	# A pass, not a skip: the secondary vCPU really went and came back.
	expect_eq "good kernel, $c: cpu1 went offline and came back" \
		"$(run good "$c" '.probes[] | select(.name == "cpu-hotplug") | .detail')" \
		"1 secondary vCPU offline and back online, each ran a task"
	expect_eq "good kernel, $c: both vCPUs online" \
		"$(run good "$c" '.probes[] | select(.name == "smp") | .detail')" \
		"2 of 2 vCPUs online, each ran a task"
done

expect_eq "xen-hotplug-broken kernel: exit 1" "$rc_broken" 1
expect_eq "xen-hotplug-broken kernel: FAIL in the Xen PV cells only" \
	"$(verdicts broken)" \
	"q35=PASS xen-pv-dom0=FAIL libxl-pv=FAIL libxl-pvh=PASS"
for c in xen-pv-dom0 libxl-pv; do
	expect_eq "xen-hotplug-broken, $c: cpu-hotplug failed, smp and clock passed" \
		"$(probes broken "$c")" "smp=pass cpu-hotplug=fail clock=pass"
	expect_eq "xen-hotplug-broken, $c: the kernel refused cpu1's return" \
		"$(run broken "$c" '.probes[] | select(.name == "cpu-hotplug") | .detail')" \
		"taking cpu1 back online: Device or resource busy"
	expect_eq "xen-hotplug-broken, $c: the reason names the probe" \
		"$(run broken "$c" .reason)" \
		"probe cpu-hotplug failed: taking cpu1 back online: Device or resource busy"
	line=$(run broken "$c" .line)
	check "xen-hotplug-broken, $c: the probe's own line decided it" \
		contains "$line" " name=cpu-hotplug result=fail "
	expect_eq "xen-hotplug-broken, $c: its signature names the probe" \
		"$("$top_builddir/orchestrator/tests/test-tool" signature "$line")" \
		"probe:cpu-hotplug:taking cpu? back online: Device or resource busy"
	# The probe fails at once: the run ends at the marker, long before
	# any timeout.
	check "xen-hotplug-broken, $c: judged in seconds (< 100 s)" \
		test "$(run broken "$c" '.duration_s | floor')" -lt 100
done
for c in q35 libxl-pvh; do
	expect_eq "xen-hotplug-broken, $c: every probe passed (native vCPU path)" \
		"$(probes broken "$c")" "smp=pass cpu-hotplug=pass clock=pass"
done

"$HVM" results --probes > "$TMP/probes.txt" 2>&1
sed 's/^/# /' "$TMP/probes.txt"
# Each run's probes are listed under it: CELL/PROBE=RESULT and how many
# runs (both kernels) have it.
expect_eq "results --probes lists every run's probes under the run" \
	"$(awk '/^[0-9][0-9][0-9][0-9]-/ { cell = $4 }
		/^    probe / { print cell "/" $2 "=" $3 }' "$TMP/probes.txt" |
		LC_ALL=C sort | uniq -c | awk '{ printf "%s%s:%s", sep, $2, $1; sep = " " }')" \
	"$(echo libxl-pv/clock=pass:2 libxl-pv/cpu-hotplug=fail:1 \
		libxl-pv/cpu-hotplug=pass:1 libxl-pv/smp=pass:2 \
		libxl-pvh/clock=pass:2 libxl-pvh/cpu-hotplug=pass:2 \
		libxl-pvh/smp=pass:2 q35/clock=pass:2 q35/cpu-hotplug=pass:2 \
		q35/smp=pass:2 xen-pv-dom0/clock=pass:2 \
		xen-pv-dom0/cpu-hotplug=fail:1 xen-pv-dom0/cpu-hotplug=pass:1 \
		xen-pv-dom0/smp=pass:2)"
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
