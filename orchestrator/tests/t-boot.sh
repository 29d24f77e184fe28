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

# Logs are read the way users read them, `hvmatrix results --log ID`,
# through the compression (a run is found by its nonce).
"$HVM" results --json > "$TMP/results.json"
run_id() { jq -r --arg n "$1" '.[] | select(.nonce == $n) | .id' "$TMP/results.json"; }
read_log() { "$HVM" results --log "$(run_id "$(field "$1" nonce)")"; }

for c in pass-i440fx-7.2 pass-q35-2.4 pass-vmware; do
	expect_eq "$c: PASS" "$(verdict $c)" PASS
	log=$(field $c log)
	nonce=$(field $c nonce)
	read_log $c > "$TMP/$c.log"
	check "$c: log holds the marker with this run's nonce" \
		grep -q "^HVMATRIX-OK nonce=$nonce" "$TMP/$c.log"
	check "$c: the log is compressed (zstd), the plain one gone" bash -c \
		'[ "$(head -c4 "$1" | od -An -tx1 | tr -d " ")" = 28b52ffd ] &&
		 [ "${1%.zst}" != "$1" ] && [ ! -e "${1%.zst}" ]' _ "$log"
	expect_eq "$c: the store names the same log" \
		"$(jq -r --arg n "$nonce" '.[] | select(.nonce == $n) | .log' \
		   "$TMP/results.json")" "$log"
done
# The kernel's own line: the verdict footer quotes the expect string too.
check "pass-vmware: the guest really ran on the VMware interface" \
	grep -q "^\[ *[0-9.]*\] Hypervisor detected: VMware" "$TMP/pass-vmware.log"
check "pass-vmware: the log ends with hvmatrix's verdict line" \
	grep -q "^--- hvmatrix: pass-vmware: PASS: " "$TMP/pass-vmware.log"

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
expect_eq "store holds the 10 runs" "$(jq length "$TMP/results.json")" 10
expect_eq "store agrees on fail-panic" \
	"$(jq -r '.[] | select(.cell == "fail-panic") | .verdict' "$TMP/results.json")" FAIL
check "store knows the kernel's release" \
	contains "$(jq -r '.[0].kernel_version' "$TMP/results.json")" "6.1"

# The dashboard shows every cell and links the logs.
"$HVM" dashboard --out "$TMP/site" > "$TMP/dash.out"
check "dashboard prints where index.html is" \
	grep -q "dashboard: $TMP/site/index.html" "$TMP/dash.out"
# The grid itself, not just the page: in the kernel's row, each cell's
# column shows that cell's verdict (a `boot` kernel has no history: its
# mark is the verdict's, text and class), linked to its run page.
check "dashboard grid: every cell's column shows its verdict" python3 - \
	"$TMP/site/index.html" "$TMP/out.json" "$TMP/results.json" <<'EOF'
import json, sys
from html.parser import HTMLParser

class Grid(HTMLParser):
    def __init__(self):
        super().__init__()
        self.on = self.cell = False
        self.rows = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.on = a.get("class") == "grid"
        elif self.on and tag == "tr":
            self.rows.append([])
        elif self.on and tag in ("th", "td"):
            self.rows[-1].append({"class": a.get("class") or "",
                                  "text": "", "links": []})
            self.cell = True
        elif self.on and self.cell and tag == "a":
            self.rows[-1][-1]["links"].append(a.get("href"))
    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self.cell = False
        elif tag == "table":
            self.on = False
    def handle_data(self, data):
        if self.on and self.cell:
            self.rows[-1][-1]["text"] += data

g = Grid()
g.feed(open(sys.argv[1], encoding="utf-8").read())
head, body = g.rows[0], g.rows[1:]
cols = [c["text"] for c in head]
boot = json.load(open(sys.argv[2]))
store = json.load(open(sys.argv[3]))
ids = {r["nonce"]: r["id"] for r in store}
kid = store[0]["kernel_id"][:12]
row = [r for r in body if kid in r[0]["text"]]
assert len(row) == 1, (kid, [r[0]["text"] for r in body])
row = row[0]
assert len(row) == len(cols), (len(row), len(cols))
bad = []
for run in boot:
    c, v = run["cell"], run["verdict"]
    td = row[cols.index(c)]
    link = "run/%d.html" % ids[run["nonce"]]
    css, code = {"PASS": ("c-ok", "ok"), "FAIL": ("c-bad", "FAIL"),
                 "ERROR": ("c-inf", "inf"), "SKIP": ("c-skp", "skp"),
                 "BLOCKED": ("c-blk", "blk")}[v]
    if css not in td["class"].split() or td["text"] != code or \
            td["links"] != [link]:
        bad.append((c, v, link, td))
assert not bad, bad
print("# grid: %d cells checked in row %s" % (len(boot), kid))
EOF
check "dashboard links a page per log" \
	test "$(ls "$TMP/site/run" | grep -c '\.html$')" -ge 10
check "dashboard log page: read through the compression, the marker the decisive line" \
	grep -q "<span id=\"decisive\"></span>HVMATRIX-OK nonce=$(field pass-vmware nonce)" \
	"$TMP/site/run/$(run_id "$(field pass-vmware nonce)").html"
check "dashboard run page: the QEMU command line that ran it" \
	grep -q "class=\"cmdline\" id=\"cmdline\">qemu-system-x86_64 " \
	"$TMP/site/run/$(run_id "$(field pass-vmware nonce)").html"

# --dry-run shows the argv it would run, and runs nothing.
"$HVM" boot --kernel "$KERNEL" --matrix "$matrix" --cell 'pass-vm*' \
	--dry-run > "$TMP/dry"
check "--dry-run prints the VMware cell's QEMU command line" \
	grep -q -- "-machine pc,vmport=on -cpu max,-hypervisor .*-smbios" "$TMP/dry"
expect_eq "--dry-run with --cell selects one cell" "$(wc -l < "$TMP/dry")" 1

expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
