#!/usr/bin/env bash
# Integration: the migrate probe. A QEMU cell whose probes include migrate
# has its running guest saved through QMP when the guest says it is
# ready, loaded by a new QEMU (the cell's migrate_to release) and told to
# go on through its console: the good test kernel carried from QEMU 7.2
# to 10.0 PASSes, with the machine type alias pinned to 7.2's newest
# versioned type at both ends, and its log names both releases. A
# destination that refuses (a CPU model QEMU 5.2 lacks; a machine type it
# lacks) is ERROR naming both releases, never FAIL. matrix check rejects
# migrate_to naming a release the catalogue lacks, migrate on a Xen cell
# and cpu max moved to an older release, with file:line:col.
. "$(dirname "$0")/lib.sh"
test_kernels
st() { "$@" > "$TMP/out" 2>&1 && echo 0 || echo $?; }
# The streams and sockets go under TMPDIR: here, so the test sees them.
export TMPDIR=$TMP/tmp
mkdir -p "$TMPDIR"

for r in 5.2 7.2 10.0; do
	if ! "$HVM" hypervisors --json | jq -e --arg r "$r" \
		'.[] | select(.kind == "qemu" and .version == $r and .starts)' \
		> /dev/null; then
		echo "not ok 1 - QEMU $r is not fetched or does not start here" \
			"(tools/setup.sh fetches it)"
		exit 99
	fi
done

# ---- matrix check ----
cat > "$TMP/bad1.yaml" <<'YAML'
version: 1
cells:
  - name: nowhere
    qemu: "7.2"
    probes: [migrate]
    migrate_to: "9.9"
YAML
expect_eq "matrix check rejects migrate_to naming a release the catalogue lacks (exit 2)" \
	"$(st "$HVM" matrix check "$TMP/bad1.yaml")" 2
check "... at the key, naming the release" \
	grep -q "bad1.yaml:6:17: migrate_to: the catalogue has no QEMU release \"9.9\"" "$TMP/out"
cat > "$TMP/bad2.yaml" <<'YAML'
version: 1
cells:
  - name: xen-migrate
    backend: xen
    xen: "4.17"
    probes: [migrate]
YAML
expect_eq "matrix check rejects migrate on a Xen cell (exit 2)" \
	"$(st "$HVM" matrix check "$TMP/bad2.yaml")" 2
check "... at probes" \
	grep -q "bad2.yaml:6:13: probes: migrate cannot run in a xen cell" "$TMP/out"
cat > "$TMP/bad3.yaml" <<'YAML'
version: 1
cells:
  - name: backwards
    qemu: "10.0"
    machine: pc-i440fx-5.2
    probes: [migrate]
    migrate_to: "5.2"
YAML
expect_eq "matrix check rejects cpu max moved to an older release (exit 2)" \
	"$(st "$HVM" matrix check "$TMP/bad3.yaml")" 2
check "... saying why" \
	grep -q "bad3.yaml:7:17: migrate_to: cpu max .* would lose CPU features" "$TMP/out"
sed -i 's/"9.9"/"10.0"/' "$TMP/bad1.yaml"
expect_eq "a release the catalogue has passes" \
	"$(st "$HVM" matrix check "$TMP/bad1.yaml")" 0

# ---- boots ----
cat > "$TMP/m.yaml" <<'YAML'
version: 1
cells:
  - name: up
    qemu: "7.2"
    probes: [smp, migrate]
    migrate_to: "10.0"
  - name: refused
    qemu: "7.2"
    machine: pc-i440fx-5.2
    cpu: Skylake-Client-v4
    probes: [migrate]
    migrate_to: "5.2"
  - name: no-machine
    qemu: "7.2"
    cpu: qemu64
    probes: [migrate]
    migrate_to: "5.2"
YAML
"$HVM" boot --kernel "$good" --matrix "$TMP/m.yaml" --cell up --dry-run \
	> "$TMP/dry.out"
check "the machine type alias is pinned to the source's newest (pc-i440fx-7.2)" \
	grep -q -- "-machine pc-i440fx-7.2 " "$TMP/dry.out"

rc=0
"$HVM" boot --kernel "$good" --matrix "$TMP/m.yaml" --jobs 1 --json \
	> "$TMP/run.json" 2> "$TMP/run.progress" || rc=$?
sed 's/^/# /' "$TMP/run.progress"
expect_eq "a refused destination is ERROR, and nothing FAILs (exit 3)" "$rc" 3
v() { jq -r --arg c "$1" ".[] | select(.cell == \$c) | .$2" "$TMP/run.json"; }
expect_eq "7.2 -> 10.0 PASSes" "$(v up verdict)" PASS
log=$(v up log)
log_text "$log" > "$TMP/up.log"
check "its log records the migration from QEMU 7.2 to QEMU 10.0" \
	grep -q "^hvmatrix: migrated from QEMU 7.2 to QEMU 10.0 in [0-9.]* s (stream [0-9.]* MiB" "$TMP/up.log"
# The ready line, the migration, the guest's report, its probes run
# again and the marker: in this order, once each.
order=$(grep -E -o '^(HVMATRIX-PROBE .*name=migrate[.a-z]* result=(ready|pass)|hvmatrix: migrated|HVMATRIX-OK nonce=)' \
	"$TMP/up.log" | sed 's/HVMATRIX-PROBE .*name=/probe /; s/ nonce=.*//' | tr '\n' '|')
expect_eq "... after the guest's ready line; then the guest resumes, runs smp again and ends" \
	"$order" "probe migrate result=ready|hvmatrix: migrated|probe migrate result=pass|probe migrate.smp result=pass|HVMATRIX-OK|"
expect_eq "a destination lacking the guest's CPU model is ERROR" \
	"$(v refused verdict)" ERROR
check "... naming both releases and the refusal" \
	contains "$(v refused reason)" "migration from QEMU 7.2 to QEMU 5.2 failed: QEMU 5.2 refused QEMU 7.2's stream"
check "... with the destination's own words" \
	contains "$(v refused reason)" "Skylake-Client-v4"
expect_eq "a destination lacking the machine type is ERROR before booting" \
	"$(v no-machine verdict)" ERROR
check "... naming both releases and the machine type" \
	contains "$(v no-machine reason)" "migration from QEMU 7.2 to QEMU 5.2: QEMU 5.2 (1:5.2"
check "... pc-i440fx-7.2" \
	contains "$(v no-machine reason)" "has no machine type pc-i440fx-7.2"
expect_eq "no stream directory is left behind" \
	"$(find "$TMPDIR" -mindepth 1 | head -3)" ""
expect_eq "no QEMU is left behind" "$(leftovers)" ""
finish
