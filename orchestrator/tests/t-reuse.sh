#!/usr/bin/env bash
# Integration: the farm never boots the same bytes twice. The daemon runs
# over a tiny git tree whose make installs the real test kernels
# (kernel_tree in lib.sh), so a commit that changes only its text (docs,
# whitespace) "builds" the very image of its parent, as a reproducible
# kernel build does (t-reuse measures none: docs/ARCHITECTURE.md gives
# the real kernel's figure). Two cells: a plain one and a VMware one.
#  1. c1 good: booted in both cells.
#  2. c2, c3 docs-only on top: identical images, carried over in both
#     cells (reused_from c1's runs), no QEMU started, no log written.
#  3. c4 breaks VMware (booted, FAIL, confirmed), c5 docs-only on top:
#     carried over, the FAIL too.
#  4. c6 goes back to the good image (carried over from c1), c7 to the
#     broken one: its VMware FAIL is carried over from c4's, is new against
#     c6, so compare wants it confirmed: the confirmation runs boot.
#  5. The same tree with `reuse: false`: every commit boots.
# Shown as such by results (text and --json), the dashboard (run page and
# grid) and the KCIDB export (misc.reused_from, valid under the schema).
. "$(dirname "$0")/lib.sh"

SCHEMA=${HVMATRIX_KCIDB_SCHEMA:-$top_srcdir/../shared/kcidb/kcidb-io.schema.v5.3.json}
[ -r "$SCHEMA" ] || SCHEMA=$top_srcdir/../../shared/kcidb/kcidb-io.schema.v5.3.json
PY=/usr/bin/python3

test_kernels

tree=$TMP/tree
kernel_tree "$tree"
commit() { kernel_commit "$tree" "$@"; }	# SUBJECT KERNEL [broken]

matrix() {	# REUSE: the tree's reuse key
	cat <<YAML
trees:
  - name: t
    path: $tree
    first: 0
    confirm: 2
    reuse: $1
builds:
  - name: b
    base: tinyconfig
cells:
  - name: vmware
    machine: pc,vmport=on
    cpu: max,-hypervisor
    qemu_args: [-smbios, "type=1,serial=VMware-0"]
    expect: "Hypervisor detected: VMware"
    silence: 10
  - name: plain
    expect: hypervisor=none
YAML
}
matrix true > "$TMP/m.yaml"
state=$TMP/state
db() { sqlite3 "$state/hvmatrix.db" "$1"; }
daemon() {
	"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 \
		--until-idle > "$TMP/daemon$1.log" 2>&1 || true
}
# Boots: runs that booted, console logs written, QEMUs started.
booted() { db "SELECT count(*) FROM runs WHERE reused_from = 0"; }
logs() { find "$state/logs/t" -name '*.log*' | wc -l; }
starts() { grep -cE '^(\[[0-9:]+\] )?  start  ' "$TMP/daemon$1.log" || true; }
t0=$(date +%s)

# 1. Booted once.
c1=$(commit "good" "$good")
daemon 1
expect_eq "push 1: c1 booted in both cells, PASS" \
	"$(db "SELECT group_concat(cell || '=' || verdict, ' ') FROM (SELECT cell, verdict FROM runs WHERE reused_from = 0 ORDER BY cell)")" \
	"plain=PASS vmware=PASS"
boots1=$(booted) logs1=$(logs)

# 2. Two docs-only commits in a row: the same image, carried over.
c2=$(commit "Documentation: fix a typo" "$good")
c3=$(commit "Documentation: whitespace" "$good")
daemon 2
expect_eq "c1, c2 and c3 have one image (the same kernel id)" \
	"$(db "SELECT count(DISTINCT kernel_id) FROM runs WHERE commit_id IN ('$c1', '$c2', '$c3') AND kernel_id != ''")" 1
expect_eq "c2 and c3: a run in each cell, none booted: all carried over" \
	"$(db "SELECT count(*) || ' ' || sum(reused_from != 0) FROM runs WHERE commit_id IN ('$c2', '$c3')")" "4 4"
expect_eq "... from c1's runs, with their verdict" \
	"$(db "SELECT group_concat(DISTINCT o.commit_id || ' ' || r.verdict) FROM runs r JOIN runs o ON o.id = r.reused_from WHERE r.commit_id IN ('$c2', '$c3')")" \
	"$c1 PASS"
expect_eq "no run booted, no console log written, no QEMU started" \
	"$(booted) $(logs) $(starts 2)" "$boots1 $logs1 0"
check "the daemon said why (reused from run N)" \
	grep -q "PASS    plain (reused from run [0-9]*)" "$TMP/daemon2.log"
expect_eq "a carried-over run: no duration, the original's log, reason and env" \
	"$(db "SELECT count(*) FROM runs r JOIN runs o ON o.id = r.reused_from WHERE r.duration_s = 0 AND r.log_path = o.log_path AND r.reason = o.reason AND r.env_key = o.env_key AND r.env_key != '' AND r.hv_build = o.hv_build")" 4
id2=$(db "SELECT id FROM runs WHERE commit_id = '$c2' AND cell = 'plain'")
from2=$(db "SELECT reused_from FROM runs WHERE id = $id2")
expect_eq "results --json: reused_from is the original's id, null for a boot" \
	"$("$HVM" results --json --state "$state" | jq -r "[.[] | select(.id == $id2 or .id == $from2) | .reused_from] | map(tostring) | join(\" \")")" \
	"$from2 null"
check "results: the reason says 'reused from run $from2'" \
	sh -c "'$HVM' results --state '$state' --commit '$c2' --cell plain | grep -q 'reused from run $from2: '"

# 3. A VMware breakage, confirmed; a docs-only commit on top carries it.
c4=$(commit "vmware: break platform setup" "$vmware")
c5=$(commit "Documentation: note the breakage" "$vmware")
daemon 3
check "c4 booted: VMware FAIL, confirmed by boots (3 FAIL runs or more)" \
	test "$(db "SELECT count(*) FROM runs WHERE commit_id = '$c4' AND cell = 'vmware' AND verdict = 'FAIL' AND reused_from = 0")" -ge 3
expect_eq "c5: both cells carried over from c4, the FAIL too" \
	"$(db "SELECT group_concat(x, ' ') FROM (SELECT r.cell || '=' || r.verdict AS x FROM runs r JOIN runs o ON o.id = r.reused_from WHERE r.commit_id = '$c5' AND o.commit_id = '$c4' ORDER BY r.cell)")" \
	"plain=PASS vmware=FAIL"
expect_eq "... with the original's decisive line" \
	"$(db "SELECT count(*) FROM runs r JOIN runs o ON o.id = r.reused_from WHERE r.commit_id = '$c5' AND r.cell = 'vmware' AND r.line = o.line AND r.line LIKE '%broken VMware platform setup%'")" 1

# 4. Back to the good image, then the broken one again: a FAIL carried
# over that is new against its parent is confirmed by real boots.
c6=$(commit "revert the breakage" "$good")
c7=$(commit "vmware: break it again" "$vmware")
boots3=$(booted)
last3=$(db "SELECT max(id) FROM runs")
daemon 4
expect_eq "c6: its test runs carried over from c1's image (PASS in both cells)" \
	"$(db "SELECT count(*) || ' ' || sum(reused_from != 0 AND verdict = 'PASS') FROM runs WHERE commit_id = '$c6' AND purpose = 'test'")" "2 2"
expect_eq "c7: its first VMware run carried over (a FAIL, from c4)" \
	"$(db "SELECT r.verdict || ' ' || o.commit_id FROM runs r JOIN runs o ON o.id = r.reused_from WHERE r.commit_id = '$c7' AND r.cell = 'vmware' AND r.purpose = 'test'")" \
	"FAIL $c4"
expect_eq "... then confirmed by 2 booted runs (purpose confirm, not reused)" \
	"$(db "SELECT count(*) || ' ' || sum(reused_from = 0) || ' ' || group_concat(DISTINCT verdict) FROM runs WHERE commit_id = '$c7' AND cell = 'vmware' AND purpose = 'confirm'")" \
	"2 2 FAIL"
# The regression c7 makes then reproduces its last good commit's PASS
# (c6, bisection runs): those boot too, never a test run.
expect_eq "push 4: no test run booted; what booted were confirmation and bisection runs" \
	"$(db "SELECT count(*) FROM runs WHERE id > $last3 AND reused_from = 0 AND purpose = 'test'")" 0
expect_eq "... each a QEMU started" "$(starts 4)" "$(( $(booted) - boots3 ))"
"$HVM" regressions --state "$state" --matrix "$TMP/m.yaml" --json --all > "$TMP/r.json"
sed 's/^/# /' "$TMP/r.json" | head -30
check "regressions: c7 is a first bad commit in the VMware cell" \
	jq -e "[.[] | select(.cell == \"vmware\" and .first_bad.commit == \"$c7\")] | length == 1" "$TMP/r.json"

# The dashboard: the run page says where the verdict comes from, the
# grid marks the cell.
"$HVM" dashboard --state "$state" > /dev/null 2>&1
check "the run page of a carried-over run links the original" \
	grep -q "Reused from</th><td><a class=\"ru\" href=\"$from2.html\">run $from2</a>" \
	"$state/dashboard/run/$id2.html"
check "the grid marks carried-over cells" \
	grep -q '<sup class="ru">r</sup>' "$state/dashboard/index.html"

# The KCIDB export: misc.reused_from on the tests carried over, valid.
"$HVM" export kcidb --state "$state" --matrix "$TMP/m.yaml" --origin t_lab \
	--out "$TMP/k.json" 2> "$TMP/export.err"
expect_eq "export kcidb: misc.reused_from on each carried-over run's test" \
	"$(jq -r "[.tests[] | select(.misc.reused_from != null and .misc.probe == null)] | length" "$TMP/k.json")" \
	"$(db "SELECT count(*) FROM runs WHERE reused_from != 0")"
expect_eq "... and on its probes' tests (the probes ran in the original)" \
	"$(jq -r "[.tests[] | select(.misc.probe != null and .misc.run == \"$id2\") | .misc.reused_from] | unique | join(\" \")" "$TMP/k.json")" \
	"$from2"
expect_eq "... naming the original run" \
	"$(jq -r ".tests[] | select(.misc.run == \"$id2\" and .misc.probe == null) | .misc.reused_from" "$TMP/k.json")" "$from2"
if [ -r "$SCHEMA" ] && "$PY" -c 'import jsonschema' 2> /dev/null; then
	check "the export validates against the KCIDB v5.3 schema" \
		"$PY" -c 'import json,sys,jsonschema
s = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator(s, format_checker=jsonschema.FormatChecker()
	).validate(json.load(open(sys.argv[2])))' "$SCHEMA" "$TMP/k.json"
fi

# 5. reuse: false: the same history in a new store boots every commit
# (only the plain cell, to stay cheap).
matrix false | sed '/^  - name: vmware$/,/^    silence: 10$/d' > "$TMP/m.yaml"
state=$TMP/state-noreuse
daemon 5
expect_eq "reuse: false: all 7 commits booted in the plain cell, none carried" \
	"$(db "SELECT count(DISTINCT commit_id) || ' ' || count(*) || ' ' || sum(reused_from != 0) FROM runs")" "7 7 0"
echo "# wall time $(( $(date +%s) - t0 )) s"
expect_eq "nothing of this test is left running" "$(leftovers)" ""
finish
