#!/usr/bin/env bash
# Integration: `hvmatrix export kcidb` and `hvmatrix report` on a real
# store. The daemon runs over a tiny git tree whose make installs real
# kernels built from linux-source-6.1 (build-test-kernels.sh): c1 good,
# c2 broken only under VMware (a FAIL there, confirmed: a regression with
# c2 as its first bad commit), c3 does not build (BLOCKED everywhere).
# The export is validated against KCIDB's v5.3 schema with Debian's
# python3-jsonschema, then its contents are checked against the store;
# the report mail against the matrix's `report:` settings.
. "$(dirname "$0")/lib.sh"

SCHEMA=${HVMATRIX_KCIDB_SCHEMA:-$top_srcdir/../shared/kcidb/kcidb-io.schema.v5.3.json}
# A worktree beside the main checkout: shared/ is one level further up.
[ -r "$SCHEMA" ] || SCHEMA=$top_srcdir/../../shared/kcidb/kcidb-io.schema.v5.3.json
# Debian's python and its jsonschema (a python earlier in PATH may lack
# the URI format checker).
PY=/usr/bin/python3
if [ ! -r "$SCHEMA" ] || ! "$PY" -c 'import jsonschema' 2> /dev/null; then
	echo "not ok 1 - no KCIDB schema ($SCHEMA) or no python3-jsonschema (tools/setup.sh installs it)"
	exit 99
fi

test_kernels

tree=$TMP/tree
kernel_tree "$tree"
commit() { kernel_commit "$tree" "$@"; }	# SUBJECT KERNEL [broken]
c1=$(commit "good" "$good")
c2=$(commit "vmware: break platform setup" "$vmware")
c3=$(commit "does not build" "$good" broken)

cat > "$TMP/m.yaml" <<YAML
trees:
  - name: t
    path: $tree
    first: 0
    confirm: 1
builds:
  - name: b
    base: tinyconfig
report:
  from: "hvmatrix CI <ci@example.org>"
  to: "kvm list <kvm@example.org>"
  reported_by: "hvmatrix CI <ci@example.org>"
  dashboard_url: https://ci.example.org/hvm
cells:
  - name: vmware
    machine: pc,vmport=on
    cpu: max,-hypervisor
    qemu_args: [-smbios, "type=1,serial=VMware-0"]
    expect: "Hypervisor detected: VMware"
    silence: 10
  - name: plain-2.4
    qemu: "7.2"
    machine: pc-i440fx-2.4
    cpu: qemu64
    expect: hypervisor=none
YAML
state=$TMP/state
"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 \
	--until-idle > "$TMP/daemon.log" 2>&1 || true
tail -3 "$TMP/daemon.log" | sed 's/^/# /'
db() { sqlite3 "$state/hvmatrix.db" "$1"; }
expect_eq "the store holds a PASS, a FAIL and a BLOCKED" \
	"$(db "SELECT group_concat(v, ' ') FROM (SELECT DISTINCT verdict AS v FROM runs ORDER BY v)")" \
	"BLOCKED FAIL PASS"

"$HVM" regressions --state "$state" --matrix "$TMP/m.yaml" --json > "$TMP/r.json"
id=$(jq -r '.[0].id' "$TMP/r.json")
expect_eq "regressions --json: a stable id, TREE:BUILD:CELL:FIRSTBAD12" \
	"$id" "t:b:vmware:$(echo "$c2" | cut -c1-12)"

# ---- export kcidb ----
rc=0
"$HVM" export kcidb --state "$state" --matrix "$TMP/m.yaml" --origin t_lab \
	--out "$TMP/k.json" 2> "$TMP/export.err" || rc=$?
sed 's/^/# /' "$TMP/export.err"
expect_eq "export kcidb: exit 0" "$rc" 0
check "the export validates against the KCIDB v5.3 schema (draft 7, formats checked)" \
	"$PY" -c 'import json,sys,jsonschema
s = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator(s, format_checker=jsonschema.FormatChecker()
	).validate(json.load(open(sys.argv[2])))' "$SCHEMA" "$TMP/k.json"

# Facts about the export, one "name value" line each.
"$PY" - "$TMP/k.json" > "$TMP/facts" <<'PY'
import json, re, sys
k = json.load(open(sys.argv[1]))
ids, nulls, times = [], [0], []
def walk(v, key=None):
    if v is None:
        nulls[0] += 1
    if isinstance(v, dict):
        for kk, vv in v.items():
            if kk == "misc":
                continue	# free-form: its keys are not KCIDB's
            if isinstance(vv, str) and (kk == "id" or kk.endswith("_id")):
                ids.append(vv)
            if kk.endswith("_time"):
                times.append(vv)
            walk(vv, kk)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(k)
print("nulls", nulls[0])
print("ids", len(ids))
print("ids_without_origin", sum(1 for i in ids if not i.startswith("t_lab:")))
rfc3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
print("bad_times", sum(1 for t in times if not rfc3339.match(t)))
runs_tests = [t for t in k["tests"] if "probe" not in t["misc"]]
print("tests", len(runs_tests))
print("probe_tests", len(k["tests"]) - len(runs_tests))
for t in k["tests"]:
    if "probe" in t["misc"]:
        print("probe", t["misc"]["run"], t["path"], t["status"])
for t in runs_tests:
    print("test", t["misc"]["run"], t["path"], t["status"],
          t["environment"]["misc"]["platform"],
          t["environment"]["misc"].get("hypervisor", "-"),
          t["environment"]["misc"].get("machine", "-"))
builds = {b["id"]: b for b in k["builds"]}
checkouts = {c["id"]: c for c in k["checkouts"]}
tests = {t["id"]: t for t in k["tests"]}
for b in k["builds"]:
    c = checkouts[b["checkout_id"]]
    print("build", c["git_commit_hash"], b["status"], b["config_name"],
          "excerpt" if b.get("log_excerpt") else "-")
print("urls", sum(1 for c in k["checkouts"] if "git_repository_url" in c))
print("branches", " ".join(sorted({c.get("git_repository_branch", "-") for c in k["checkouts"]})))
for i in k["issues"]:
    print("issue", i["id"], i["version"], i["misc"]["first_bad"])
for n in k["incidents"]:
    t = tests[n["test_id"]]
    c = checkouts[builds[t["build_id"]]["checkout_id"]]
    print("incident", n["issue_id"], c["git_commit_hash"], t["path"],
          t["status"], "excerpt" if t.get("log_excerpt") else "-")
for t in runs_tests:
    e = t["environment"]["misc"]
    print("env", t["environment"]["misc"]["platform"], e.get("release", "-"),
          "|", e.get("qemu", "-"))
print("fail_excerpts_max", max([len(t.get("log_excerpt", "")) for t in k["tests"]]))
PY
sed 's/^/# /' "$TMP/facts" | head -40
fact() { sed -n "s/^$1 //p" "$TMP/facts"; }
expect_eq "no null anywhere" "$(fact nulls)" 0
expect_eq "every id carries the origin prefix t_lab:" "$(fact ids_without_origin)" 0
check "... and there are ids ($(fact ids))" test "$(fact ids)" -gt 10
expect_eq "every time is RFC 3339" "$(fact bad_times)" 0
expect_eq "one test per recorded run" "$(fact tests)" "$(db "SELECT count(*) FROM runs")"
# Each run: path boot.<cell> ('.' as '_'), its verdict mapped, the cell as
# platform, the hypervisor and machine from the matrix.
want=$(db "SELECT id, 'boot.' || replace(cell, '.', '_'),
		CASE verdict WHEN 'BLOCKED' THEN 'MISS' ELSE verdict END, cell, 'qemu',
		CASE cell WHEN 'vmware' THEN 'pc,vmport=on' ELSE 'pc-i440fx-2.4' END
	FROM runs ORDER BY id" | tr '|' ' ')
expect_eq "each test: path, status, platform, hypervisor, machine as the store says" \
	"$(fact test | sort -n)" "$want"
# Each probe result (schema 8) is a test of its own under its run's path.
expect_eq "one test per probe result" "$(fact probe_tests)" \
	"$(db "SELECT count(*) FROM probes")"
want=$(db "SELECT p.run_id, 'boot.' || replace(r.cell, '.', '_') || '.' ||
		p.name, upper(p.result)
	FROM probes p JOIN runs r ON r.id = p.run_id" | tr '|' ' ' | sort)
check "... and there are probe results" test -n "$want"
expect_eq "each probe test: boot.<cell>.<probe>, its result" \
	"$(fact probe | sort)" "$want"
expect_eq "c2's VMware tests FAIL" \
	"$(fact test | awk '$2 == "boot.vmware" && $3 == "FAIL"' | wc -l)" \
	"$(db "SELECT count(*) FROM runs WHERE commit_id = '$c2' AND cell = 'vmware'")"
expect_eq "the builds: c1 and c2 PASS, c3 FAIL with the compiler's error" \
	"$(fact build | sort)" \
	"$(printf '%s\n' "$c1 PASS b -" "$c2 PASS b -" "$c3 FAIL b excerpt" | sort)"
expect_eq "c3's tests are MISS (BLOCKED)" \
	"$(db "SELECT count(*) FROM runs WHERE commit_id = '$c3' AND verdict = 'BLOCKED'")" \
	"$(fact test | awk '$3 == "MISS"' | wc -l)"
expect_eq "a local tree has no git_repository_url" "$(fact urls)" 0
expect_eq "the watched branch" "$(fact branches)" master
expect_eq "one issue: the regression, its first bad commit" \
	"$(fact issue)" "t_lab:$id 1 $c2"
n_fail=$(db "SELECT count(*) FROM runs WHERE commit_id = '$c2' AND cell = 'vmware' AND verdict = 'FAIL'")
expect_eq "an incident per failing test of the first bad commit, with its console" \
	"$(fact incident | sort -u)" "t_lab:$id $c2 boot.vmware FAIL excerpt"
expect_eq "... $n_fail of them" "$(fact incident | wc -l)" "$n_fail"
# What ran each run is recorded with it (schema 6), not asked at export.
expect_eq "the store records the named QEMU release a run ran under" \
	"$(db "SELECT DISTINCT qemu_version FROM runs WHERE cell = 'plain-2.4' AND verdict != 'BLOCKED'" | sed 's/(Debian 1:7\.2+[^)]*)$/(Debian 1:7.2+V)/')" \
	"7.2 (Debian 1:7.2+V)"
expect_eq "... and nothing for a cell that names a binary" \
	"$(db "SELECT count(*) FROM runs WHERE cell = 'vmware' AND qemu_version != ''")" 0
expect_eq "the release cell's tests: release 7.2, the recorded QEMU" \
	"$(fact env | awk '$1 == "plain-2.4" && /Debian/' | sort -u | sed 's/+[^)]*)$/+V)/')" \
	"plain-2.4 7.2 | 7.2 (Debian 1:7.2+V)"
check "the binary cell's tests: release from its --version" \
	test "$(fact env | awk '$1 == "vmware"' | grep -Evc '^vmware [0-9]+\.[0-9]+(\.[0-9]+)? \| [0-9]')" -eq 0
check "log excerpts are at most 16 KiB" test "$(fact fail_excerpts_max)" -le 16384

rc=0
"$HVM" export kcidb --state "$state" --matrix "$TMP/m.yaml" --origin Bad-Lab \
	--out "$TMP/bad.json" 2> "$TMP/bad.err" || rc=$?
expect_eq "a bad origin is refused: exit 2 (usage)" "$rc" 2
check "... saying what an origin must be" grep -q 'a-z0-9_' "$TMP/bad.err"
check "... and writing nothing" test ! -e "$TMP/bad.json"
expect_eq "--since (ISO 8601) after every run: no tests" \
	"$("$HVM" export kcidb --state "$state" --matrix "$TMP/m.yaml" --since 2999-01-01T00:00:00Z | jq '.tests | length')" 0
expect_eq "--since (Unix time) before every run: all of them" \
	"$("$HVM" export kcidb --state "$state" --matrix "$TMP/m.yaml" --since 1000000000 | jq '.tests | length')" \
	"$(($(fact tests) + $(fact probe_tests)))"

# ---- report ----
rc=0
"$HVM" report "$id" --state "$state" --matrix "$TMP/m.yaml" > "$TMP/mail" \
	2> "$TMP/report.err" || rc=$?
sed 's/^/# /' "$TMP/report.err"
sed 's/^/#   /' "$TMP/mail" | head -30
expect_eq "report: exit 0" "$rc" 0
headers=$(sed '/^$/q' "$TMP/mail")
hdr() { echo "$headers" | sed -n "s/^$1: *//p"; }
expect_eq "From: as configured" "$(hdr From)" "hvmatrix CI <ci@example.org>"
expect_eq "To: as configured" "$(hdr To)" "kvm list <kvm@example.org>"
check "Subject: names the tree and the cell" contains "$(hdr Subject)" "[hvmatrix] t vmware:"
check "Date: RFC 5322" grep -Eq '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}$' "$TMP/mail"
check "Message-ID: <...@the From: domain>" grep -Eq '^Message-ID: <[^<> @]+@example\.org>$' "$TMP/mail"
check "an empty In-Reply-To:" grep -qx 'In-Reply-To:' "$TMP/mail"
check "the body names the first bad commit and its subject" \
	grep -q "^commit: *$c2 (\"vmware: break platform setup\")" "$TMP/mail"
check "... its author" grep -q '^author: *A U Thor <author@example.org>' "$TMP/mail"
check "... the cell's hypervisor release (QEMU's version) and machine" \
	grep -Eq '^ +QEMU [0-9]+\.[0-9]+(\.[0-9]+)?, machine pc,vmport=on' "$TMP/mail"
check "... a link to the log on the dashboard" \
	grep -Eq '^The whole console log: https://ci.example.org/hvm/run/[0-9]+\.html$' "$TMP/mail"
check "... the reproducer: the hvmatrix boot command line" \
	grep -q "^    hvmatrix boot --matrix $TMP/m.yaml --cell vmware --kernel $state/artifacts/" "$TMP/mail"
check "... and the run's QEMU command line with its nonce" \
	grep -Eq '^    qemu-system-x86_64 .*hvmatrix\.nonce=[0-9a-f]{16}' "$TMP/mail"
expect_eq "the configured Reported-by: line" \
	"$(grep '^Reported-by:' "$TMP/mail")" "Reported-by: hvmatrix CI <ci@example.org>"
expect_eq "a unique prefix of the id gives the same mail" \
	"$("$HVM" report t:b:vm --state "$state" --matrix "$TMP/m.yaml" | grep -v '^Date:' | md5sum)" \
	"$(grep -v '^Date:' "$TMP/mail" | md5sum)"
rc=0
"$HVM" report t:b:nosuch --state "$state" --matrix "$TMP/m.yaml" > /dev/null 2> "$TMP/unknown.err" || rc=$?
expect_eq "an unknown id: exit 2" "$rc" 2
check "... saying so" grep -q "no regression with id 't:b:nosuch'" "$TMP/unknown.err"

# ---- the report: mapping's errors, with file:line:col ----
printf 'report:\n  from: ci@example.org\n  reply_to: x@example.org\ncells:\n  - name: a\n' > "$TMP/bad1.yaml"
printf 'report:\n  from: nobody\ncells:\n  - name: a\n' > "$TMP/bad2.yaml"
printf 'report:\n  dashboard_url: ftp://x\ncells:\n  - name: a\n' > "$TMP/bad3.yaml"
expect_eq "report: an unknown key is an error at its position" \
	"$("$HVM" matrix check "$TMP/bad1.yaml" 2>&1)" \
	"$TMP/bad1.yaml:3:3: unknown key 'reply_to' in report"
check "report: from must be an address (file:line:col)" \
	grep -q "^$TMP/bad2.yaml:2:9: from: expected a mail address" <("$HVM" matrix check "$TMP/bad2.yaml" 2>&1)
check "report: dashboard_url must be http(s)" \
	grep -q "^$TMP/bad3.yaml:2:18: dashboard_url: expected an http:// or https:// URL" <("$HVM" matrix check "$TMP/bad3.yaml" 2>&1)
expect_eq "nothing of this test is left running" "$(leftovers)" ""
finish
