#!/usr/bin/env bash
# Integration: signed webhooks from the real daemon to a real listener on
# 127.0.0.1 (a python3 http.server in this script that recomputes each
# body's HMAC-SHA256 with the secret it knows and records every request).
# The tree is a tiny repository whose make installs the real kernel its
# commit names (as in t-regress.sh): c1 good, c2 panics under VMware
# only, c3 good again (the fix), c4 the coin-flip kernel (fails one boot
# in two: flaky, or a regression of its own, whichever the coin says).
#
#  1. the listener is down (connection refused): the daemon finds the
#     regression, queues its events in the store's outbox, stops at idle;
#  2. a daemon retries with backoff while the listener is down; SIGTERM;
#  3. another one retries; kill -9;
#  4. the listener comes up, answering 500 to the first POST of each
#     delivery (a non-2xx is retried too), then 200: everything queued is
#     delivered; SIGTERM;
#  5. one more commit, one more daemon: the findings are recomputed, and
#     nothing is queued or sent again.
# In the end the listener has accepted each event the store's regressions
# stand for exactly once, every one correctly signed, and the secrets are
# nowhere in the state directory, the logs or `status`.
. "$(dirname "$0")/lib.sh"

for tool in python3 jq sqlite3; do
	command -v $tool > /dev/null || {
		echo "not ok 1 - $tool missing (tools/setup.sh installs it)"
		exit 99
	}
done
test_kernels
[ -r "$coin" ] || { echo "not ok 1 - no coin-flip kernel"; exit 99; }

tree=$TMP/tree
kernel_tree "$tree"
commit() { kernel_commit "$tree" "$@"; }	# SUBJECT KERNEL [broken]

# Two endpoints: /a gets every event, signed with a secret from a file;
# /b only "fixed", signed with a secret from the environment.
secret_a="hvm-secret-a-$$-$RANDOM$RANDOM"
secret_b="hvm-secret-b-$$-$RANDOM$RANDOM"
echo "$secret_a" > "$TMP/hook.secret"
export HVM_TEST_HOOK_B=$secret_b
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$TMP/m.yaml" <<YAML
trees:
  - name: t
    path: $tree
    first: 0
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
  - url: http://127.0.0.1:$port/a
    secret_file: hook.secret
  - url: http://127.0.0.1:$port/b
    secret_env: HVM_TEST_HOOK_B
    events: [fixed]
YAML

cat > "$TMP/listen.py" <<'PY'
# A webhook receiver: checks each POST's signature and body, answers 500
# to the first attempt of each delivery and 200 to the rest, and appends
# what it saw to a JSON-lines file.
import hashlib, hmac, json, sys
from http.server import HTTPServer, BaseHTTPRequestHandler

port, log = int(sys.argv[1]), sys.argv[2]
secrets = {"/a": sys.argv[3].encode(), "/b": sys.argv[4].encode()}
seen = set()

class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        want = "sha256=" + hmac.new(secrets.get(self.path, b""), body,
                                    hashlib.sha256).hexdigest()
        got = self.headers.get("X-Hvmatrix-Signature-256", "")
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        delivery = self.headers.get("X-Hvmatrix-Delivery", "")
        first = delivery not in seen
        seen.add(delivery)
        code = 500 if first else 200
        rec = {
            "path": self.path, "code": code,
            "sig_ok": hmac.compare_digest(want, got),
            "json_ok": isinstance(doc, dict),
            "type": self.headers.get("Content-Type", ""),
            "event": self.headers.get("X-Hvmatrix-Event", ""),
            "delivery": delivery, "body": doc,
        }
        with open(log, "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", port), Hook).serve_forever()
PY

state=$TMP/state
export HVMATRIX_WEBHOOK_RETRY_S=0.5 HVMATRIX_WEBHOOK_RETRY_MAX_S=2
start_daemon() {	# start_daemon N [--until-idle]
	"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 \
		${2:-} > "$TMP/daemon$1.log" 2>&1 &
	dpid=$!
}
# stop_daemon SIGNAL: the daemon is gone within 30 s.
stop_daemon() {
	kill -"$1" "$dpid" 2>/dev/null
	wait_for 30 sh -c "! kill -0 $dpid 2>/dev/null"
	local rc=$?
	wait "$dpid" 2>/dev/null
	return $rc
}
q() { sqlite3 "$state/hvmatrix.db" "$1" 2>/dev/null; }
attempts() { q "SELECT coalesce(sum(attempts), 0) FROM outbox"; }
attempts_over() { [ "$(attempts)" -gt "$1" ]; }

c1=$(commit "good" "$good")
c2=$(commit "vmware: break platform setup" "$vmware")
c3=$(commit "Revert \"vmware: break platform setup\"" "$good")
c4=$(commit "coin flip" "$coin")

# 1. Listener down: the regression is found, its events are queued.
start_daemon 1 --until-idle
wait_for 170 sh -c "! kill -0 $dpid 2>/dev/null"
wait "$dpid"
sed 's/^/# /' "$TMP/daemon1.log" | grep -i 'webhook' | head -5
n_rows=$(q "SELECT count(*) FROM outbox")
check "the outbox has the events ($n_rows)" test "${n_rows:-0}" -ge 3
expect_eq "none delivered (nothing listens)" \
	"$(q "SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL")" 0
expect_eq "the VMware regression's and its fix's events are queued, /b gets only the fix" \
	"$(q "SELECT group_concat(event || ':' || cell || ':' || substr(url, -1), ' ') FROM (SELECT * FROM outbox WHERE first_bad = '$c2' ORDER BY url, event)")" \
	"fixed:vmware:a regression:vmware:a fixed:vmware:b"

# 2. Still down: attempts fail and are retried with backoff; SIGTERM.
before=$(attempts)
start_daemon 2
check "connection refused is retried" wait_for 30 attempts_over $((before + 2))
check "a SIGTERM stops the daemon" stop_daemon TERM
check "the failure is logged" grep -q "webhook regression .* (attempt [0-9]*); next in" "$TMP/daemon2.log"
sed 's/^/# /' "$TMP/daemon2.log" | grep 'webhook' | head -3
check "the next attempt is persisted, later than the last (backoff)" \
	test "$(q "SELECT count(*) FROM outbox WHERE attempts > 0 AND next_attempt > created_at")" -ge 1

# 3. Still down: retried again after a restart; kill -9.
before=$(attempts)
start_daemon 3
check "a restarted daemon goes on retrying" wait_for 30 attempts_over "$before"
check "kill -9" stop_daemon KILL
expect_eq "still nothing delivered" \
	"$(q "SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL")" 0

# 4. The listener comes up (500 first, then 200): all is delivered.
python3 "$TMP/listen.py" "$port" "$TMP/received.jsonl" "$secret_a" "$secret_b" \
	2> "$TMP/listen.err" &
lpid=$!
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $port)).close()"
n_rows=$(q "SELECT count(*) FROM outbox")
start_daemon 4
all_delivered() { [ "$(q "SELECT count(*) FROM outbox WHERE delivered_at IS NULL")" = 0 ]; }
check "every queued event is delivered once the listener is up" wait_for 60 all_delivered
# The status file is rewritten every 2 s.
status_delivered() {
	[ "$("$HVM" status --state "$state" --json 2>/dev/null | jq -r '.daemon.webhooks.delivered')" = "$n_rows" ]
}
check "status --json counts them delivered" wait_for 10 status_delivered
"$HVM" status --state "$state" --json > "$TMP/status.json" 2>&1
"$HVM" status --state "$state" > "$TMP/status.txt" 2>&1
jq -c '.daemon.webhooks' "$TMP/status.json" | sed 's/^/# status: /'
check "status shows the outbox" grep -q "^webhooks: 2 endpoints, 0 pending, $n_rows delivered" "$TMP/status.txt"
check "SIGTERM" stop_daemon TERM

# 5. One more commit: recomputed; the events of c2 are not queued again.
accepted_c2() {
	jq -r "select(.code == 200 and .body.first_bad.commit == \"$c2\") | .delivery" \
		"$TMP/received.jsonl" | wc -l
}
c2_before=$(accepted_c2)
c5=$(commit "harmless" "$good")
start_daemon 5 --until-idle
wait_for 120 sh -c "! kill -0 $dpid 2>/dev/null"
wait "$dpid"
expect_eq "the events of c2 are still the three queued first" \
	"$(q "SELECT count(*) FROM outbox WHERE first_bad = '$c2'")" 3
# 6. Whatever c5 changed (the coin's regression fixed?) goes out too.
start_daemon 6
check "everything queued is delivered" wait_for 60 all_delivered
sleep 1
check "SIGTERM" stop_daemon TERM
kill "$lpid" 2>/dev/null
wait "$lpid" 2>/dev/null
expect_eq "nothing about c2 was sent again" "$(accepted_c2)" "$c2_before"

# What the store's findings stand for, and what the listener accepted.
"$HVM" regressions --state "$state" --matrix "$TMP/m.yaml" --all --json > "$TMP/reg.json"
jq -r '.[] | "# \(.status) \(.cell) \(.first_bad.commit[0:12]) \(.line)"' "$TMP/reg.json"
expected=$(jq -r '.[] | select(.first_bad != null) |
	(if (.status == "open" and (.bisect == null or .bisect.running == false)) or .status == "fixed"
	 then "a regression \(.cells[]) \(.first_bad.commit)" else empty end),
	(if .status == "fixed" then "a fixed \(.cells[]) \(.first_bad.commit)", "b fixed \(.cells[]) \(.first_bad.commit)" else empty end),
	(if .status == "flaky" then "a flaky \(.cells[]) \(.first_bad.commit)" else empty end)' \
	"$TMP/reg.json" | sort)
accepted=$(jq -r 'select(.code == 200) | "\(.path[1:]) \(.event) \(.body.cell) \(.body.first_bad.commit)"' \
	"$TMP/received.jsonl" | sort)
echo "$accepted" | sed 's/^/# accepted: /'
expect_eq "each event the findings stand for was accepted exactly once" "$accepted" "$expected"
expect_eq "no delivery id accepted twice" \
	"$(jq -r 'select(.code == 200) | .delivery' "$TMP/received.jsonl" | sort | uniq -d)" ""
expect_eq "as many accepted as queued" \
	"$(echo "$accepted" | grep -c .)" "$(q "SELECT count(*) FROM outbox")"
expect_eq "every request correctly signed with its endpoint's secret, JSON, application/json" \
	"$(jq -r 'select(.sig_ok != true or .json_ok != true or .type != "application/json") | .delivery' "$TMP/received.jsonl")" ""
expect_eq "X-Hvmatrix-Event and -Delivery match the body" \
	"$(jq -r 'select(.event != .body.event or .delivery != .body.delivery) | .delivery' "$TMP/received.jsonl")" ""
expect_eq "each delivery was answered 500 once, then retried" \
	"$(jq -r 'select(.code == 500) | .delivery' "$TMP/received.jsonl" | sort | uniq -d)" ""
check "... and every accepted one had been refused first" \
	test "$(jq -r 'select(.code == 500) | .delivery' "$TMP/received.jsonl" | sort -u | wc -l)" -eq "$(echo "$accepted" | grep -c .)"
# (The coin-flip kernel may make a VMware regression of its own: pick c2's.)
reg=$(jq -c --arg c2 "$c2" 'select(.code == 200 and .path == "/a" and .event == "regression" and .body.cell == "vmware" and .body.first_bad.commit == $c2)' "$TMP/received.jsonl" | head -1)
check "the VMware regression of c2 was accepted" test -n "$reg"
expect_eq "the regression's body: first bad commit, its subject and author" \
	"$(echo "$reg" | jq -r '.body | "\(.first_bad.commit) \(.first_bad.subject) / \(.first_bad.author)"')" \
	"$c2 vmware: break platform setup / A U Thor <author@example.org>"
expect_eq "... the last good commit, the tree, the cells" \
	"$(echo "$reg" | jq -r '.body | "\(.last_good.commit) \(.tree) \(.cells | join(","))"')" "$c1 t vmware"
check "... the decisive line, the signature and the runs" \
	test -n "$(echo "$reg" | jq -r '.body.line // empty')" -a \
	-n "$(echo "$reg" | jq -r '.body.signature // empty')" -a \
	"$(echo "$reg" | jq -r '.body.runs.fail')" -ge 3
# (The coin flip may lose every run in a cell, be pinned on c4 and be
# fixed by c5: another fixed event, of another regression.)
expect_eq "the VMware regression's fixed event names the fixing commit" \
	"$(jq -r "select(.code == 200 and .event == \"fixed\" and .body.cell == \"vmware\" and .body.first_bad.commit == \"$c2\") | .body.fixed_by.commit" "$TMP/received.jsonl" | sort -u)" "$c3"

# The secrets: never in the store, the dashboard, the logs or status.
leaks=$(grep -rlaF -e "$secret_a" -e "$secret_b" "$state" "$TMP"/daemon*.log \
	"$TMP/status.json" "$TMP/status.txt" 2>/dev/null)
expect_eq "the secrets appear nowhere in the state dir, logs or status" "$leaks" ""
check "(the dashboard was written)" test -f "$state/dashboard/index.html"
"$HVM" matrix list --matrix "$TMP/m.yaml" > "$TMP/list.txt" 2>&1
"$HVM" matrix check "$TMP/m.yaml" > "$TMP/check.txt" 2>&1
expect_eq "nor in matrix list/check" \
	"$(grep -lF -e "$secret_a" -e "$secret_b" "$TMP/list.txt" "$TMP/check.txt")" ""
expect_eq "nothing of this test is left running" "$(leftovers)" ""
finish
