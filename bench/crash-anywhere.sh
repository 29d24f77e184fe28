#!/usr/bin/env bash
# Crash anywhere, lose nothing: the real daemon over a real multi-commit
# tree (tests/lib.sh's kernel tree: c1 good, c2 panics under VMware only,
# c3 the fix, c4 good), two cells, a webhook listener on 127.0.0.1, and
# KILLS (default 20) kill -9s at random moments, the daemon restarted
# after each; then one last daemon runs until idle. Prints the figures:
#  - kills, and the moments they hit (what the daemon's last line said:
#    poll, build, boot, record/publish, webhook, idle);
#  - runs: verdict sets per (commit, cell) of purpose test, with the
#    duplicates (more than one) and gaps (none) among the 4 x 2 expected;
#  - orphans: QEMU, make or agent processes left after each kill (2 s
#    later) and at the end;
#  - the dashboard against a fresh publish of the same store (files that
#    differ, the "Generated" time of each page aside);
#  - webhooks: outbox events, those the listener accepted, events with
#    more than one delivery id, events never received.
# Exit 0 when every figure that must be 0 is. It boots QEMU: run it alone
# (the heavy lock of the test suite).
#
# usage: bench/crash-anywhere.sh [KILLS]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$top top_builddir=$top
kills=${1:-20}
. "$top/orchestrator/tests/lib.sh"

for tool in python3 jq sqlite3; do
	command -v $tool > /dev/null || { echo "bench: $tool missing" >&2; exit 2; }
done
test_kernels

tree=$TMP/tree
kernel_tree "$tree"
c1=$(kernel_commit "$tree" "good one" "$good")
c2=$(kernel_commit "$tree" "vmware: break platform setup" "$vmware")
c3=$(kernel_commit "$tree" "vmware: fix platform setup" "$good")
c4=$(kernel_commit "$tree" "good again" "$good")

# The listener lives outside $TMP: leftovers() counts what mentions $TMP.
lst=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$lst/listen.py" <<'PY'
import json, sys
from http.server import HTTPServer, BaseHTTPRequestHandler
port, log = int(sys.argv[1]), sys.argv[2]
class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        rec = {"event": self.headers.get("X-Hvmatrix-Event", ""),
               "delivery": self.headers.get("X-Hvmatrix-Delivery", ""),
               "first_bad": (doc.get("first_bad") or {}).get("commit", ""),
               "cell": doc.get("cell", "")}
        with open(log, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY
: > "$lst/received.jsonl"
python3 "$lst/listen.py" "$port" "$lst/received.jsonl" &
lpid=$!
trap 'kill $lpid 2> /dev/null; rm -rf "$lst"; cleanup' EXIT
echo "bench-secret-$$" > "$TMP/hook.secret"
chmod 600 "$TMP/hook.secret"

cat > "$TMP/m.yaml" <<YAML
trees:
  - name: t
    path: $tree
    first: 0
    poll: 10
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
    silence: 10
webhooks:
  - url: http://127.0.0.1:$port/hook
    secret_file: hook.secret
YAML

state=$TMP/state
export HVMATRIX_WEBHOOK_RETRY_S=0.5 HVMATRIX_WEBHOOK_RETRY_MAX_S=2
# What the daemon was doing: its last line, as one word (the line itself
# is printed with each kill).
moment() {
	local l
	l=$(grep -v '^\s*$' "$1" | tail -n 1)
	case $l in
	*webhook*) echo webhook ;;
	*"] poll "*) echo poll ;;
	*": booting "*|*": PASS"*|*": FAIL"*|*": ERROR"*|*": SKIP"*) echo boot ;;
	# A boot's own lines: "  start  CELL", "  PASS    CELL (8.3 s): ...".
	*"  start  "*|*"  PASS  "*|*"  FAIL  "*|*"  ERROR  "*|*"  SKIP  "*) echo boot ;;
	*": built"*|*": attempt"*|*": checkout"*|*": config"*|*": make"*|*"build "*)
		echo build ;;
	*"done after"*|*dashboard*|*regression*|*compar*) echo record/publish ;;
	*"queue empty"*|*idle*) echo idle ;;
	*"hvmatrix daemon:"*|"") echo start ;;
	*) echo other ;;
	esac
}
orphans() {
	local n=0 p
	for p in $(leftovers); do
		case $(tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null) in
		*qemu*|*make*|*agent*|*hvmatrix*) n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}

declare -A hit
orphans_after_kills=0
t0=$(date +%s)
for k in $(seq 1 "$kills"); do
	log=$TMP/daemon$k.log
	"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 \
		> "$log" 2>&1 &
	dpid=$!
	# A random moment: 0.3 to 12 s into this daemon's life.
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.1f", 0.3 + r % 118 / 10 }')"
	m=$(moment "$log")
	kill -9 "$dpid" 2> /dev/null
	wait "$dpid" 2> /dev/null
	hit[$m]=$(( ${hit[$m]:-0} + 1 ))
	sleep 2
	o=$(orphans)
	orphans_after_kills=$((orphans_after_kills + o))
	echo "kill $k: at '$m' ($(grep -v '^\s*$' "$log" | tail -n 1 |
		cut -c12-80)); orphans 2 s later: $o"
done
"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 --until-idle \
	> "$TMP/final.log" 2>&1
final_rc=$?
# The webhooks of the last findings: the outbox drains before idle.
sleep 3
orphans_end=$(orphans)
t1=$(date +%s)

db=$state/hvmatrix.db
pairs=$(sqlite3 "$db" "SELECT commit_id || ' ' || cell || ' ' || count(*)
	FROM runs WHERE purpose = 'test' AND commit_id != ''
	GROUP BY commit_id, cell")
dups=$(echo "$pairs" | awk 'NF == 3 && $3 > 1' | wc -l)
gaps=0
for c in "$c1" "$c2" "$c3" "$c4"; do
	for cell in vmware plain; do
		echo "$pairs" | grep -q "^$c $cell " || gaps=$((gaps + 1))
	done
done
n_runs=$(sqlite3 "$db" "SELECT count(*) FROM runs")
"$HVM" dashboard --state "$state" --out "$TMP/fresh" > /dev/null 2>&1
# Every page says when it was generated: that line is not compared.
unstamp() {
	cp -r "$1" "$2"
	find "$2" -name '*.html' -exec sed -i \
		's|<p class="generated">Generated <time>[^<]*</time></p>|<p class="generated">Generated</p>|' {} +
}
unstamp "$state/dashboard" "$TMP/dash-daemon"
unstamp "$TMP/fresh" "$TMP/dash-fresh"
# A page the daemon rewrote keeps its spare, DIR/.NAME.old (the old text,
# exchanged with the new: publish_site_write_path); a fresh publish writes
# every page once and has none. The spares are not pages: not compared.
diff -rq -x '.*.old' "$TMP/dash-daemon" "$TMP/dash-fresh" > "$TMP/dash.diff" 2>&1
dash_diff=$(wc -l < "$TMP/dash.diff")
events=$(sqlite3 "$db" "SELECT count(*) FROM outbox")
delivered=$(sqlite3 "$db" "SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL")
# Per event (the outbox's delivery id), what the listener saw.
never=0 multi_id=0
while IFS='|' read -r ev fb cell id; do
	seen=$(jq -r --arg e "$ev" --arg f "$fb" --arg c "$cell" \
		'select(.event == $e and .first_bad == $f and .cell == $c) | .delivery' \
		"$lst/received.jsonl" | sort -u)
	[ -n "$seen" ] || never=$((never + 1))
	[ "$(echo "$seen" | grep -c .)" -le 1 ] || multi_id=$((multi_id + 1))
	[ -z "$seen" ] || [ "$seen" = "$id" ] || multi_id=$((multi_id + 1))
done < <(sqlite3 "$db" "SELECT event, first_bad, cell, delivery FROM outbox")

moments=$(for m in "${!hit[@]}"; do printf '%s=%s ' "$m" "${hit[$m]}"; done)
echo "crash-anywhere: $kills kills in $((t1 - t0)) s; moments: $moments"
echo "final daemon: exit $final_rc (0: nothing failed; 1: a FAIL it ran itself)"
echo "runs: $n_runs in all; (commit, cell) verdict sets: $(echo "$pairs" | grep -c .) of 8, duplicates $dups, gaps $gaps"
echo "orphans: $orphans_after_kills after kills (2 s later), $orphans_end at the end"
echo "dashboard vs a fresh publish: $dash_diff files differ"
head -n 5 "$TMP/dash.diff" | sed 's/^/  /'
first=$(sed -n 's/^Files \([^ ]*\) and \([^ ]*\) differ$/\1 \2/p' "$TMP/dash.diff" | head -n 1)
[ -z "$first" ] || diff $first | head -n 8 | sed 's/^/    /' | cut -c1-160
echo "webhooks: $events events, $delivered delivered, $never never received, $multi_id with more than one delivery id"
# The last daemon exits 1 when a run of its own FAILs (c2 under VMware,
# on purpose): a finding, not a loss.
case $final_rc in 0 | 1) ;; *) false ;; esac && [ "$dups" = 0 ] && [ "$gaps" = 0 ] &&
	[ "$orphans_end" = 0 ] && [ "$dash_diff" = 0 ] && [ "$never" = 0 ] &&
	[ "$multi_id" = 0 ]
