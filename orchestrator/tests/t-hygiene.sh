#!/usr/bin/env bash
# Integration: runs whose reason, deciding line and console log hold
# invalid UTF-8 (stray bytes, overlongs, surrogates, cut sequences), NULs,
# controls and terminal escapes, recorded through the real store API with
# a log written and compressed by logfile.c (test-tool fill-store);
# then the real `hvmatrix results` (JSON, table, --log) and `hvmatrix
# dashboard`: every output is valid UTF-8 with no raw ESC or NUL, the JSON
# parses, and the logs read back through their cap and compression.
. "$(dirname "$0")/lib.sh"

state=$HVMATRIX_STATE
"$top_builddir/orchestrator/tests/test-tool" fill-store "$state" ||
	{ echo "not ok 1 - cannot fill the store"; exit 99; }

# utf8 FILE: strict UTF-8 (Python refuses surrogates and overlongs too).
utf8() {
	python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$1" 2>/dev/null
}
# no_raw FILE: no ESC, NUL or other C0 control than tab, LF, CR.
no_raw() {
	python3 - "$1" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
sys.exit(any(b < 0x20 and b not in b"\t\n\r" or b == 0x7f for b in data))
EOF
}

"$HVM" results --json > "$TMP/results.json"
check "results --json is valid UTF-8" utf8 "$TMP/results.json"
check "results --json has no raw control byte" no_raw "$TMP/results.json"
check "results --json parses as JSON (strict UTF-8)" python3 -c '
import json, sys
runs = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
assert len(runs) == 3, runs
' "$TMP/results.json"
# The deciding line keeps what it can: bad bytes are U+FFFD, the escape
# is a JSON escape, not dropped.
expect_eq "results --json: the deciding line, bad bytes replaced" \
	"$(python3 -c '
import json, sys
runs = json.load(open(sys.argv[1]))
line = [r for r in runs if r["cell"] == "nasty"][0]["line"]
print(ascii(line))' "$TMP/results.json")" \
	"'Kernel panic - not syncing: \\ufffd\\ufffd \\x1b[31mred\\x1b[0m \\x01\\x7f end'"
zlog=$(jq -r '.[] | select(.cell == "nasty") | .log' "$TMP/results.json")
plog=$(jq -r '.[] | select(.cell == "plain") | .log' "$TMP/results.json")
check "the store names the compressed log (.zst)" contains "$zlog" ".zst"
check "the compressed log is zstd (magic)" bash -c \
	'[ "$(head -c4 "$1" | od -An -tx1 | tr -d " ")" = 28b52ffd ]' _ "$zlog"

"$HVM" results > "$TMP/table"
check "results table is valid UTF-8" utf8 "$TMP/table"
check "results table has no raw control byte" no_raw "$TMP/table"
check "results table shows the nasty run" grep -q "kernel panic" "$TMP/table"

zid=$(jq -r '.[] | select(.cell == "nasty") | .id' "$TMP/results.json")
pid=$(jq -r '.[] | select(.cell == "plain") | .id' "$TMP/results.json")
"$HVM" results --log "$zid" > "$TMP/zlog.txt"
check "results --log (zstd) is valid UTF-8" utf8 "$TMP/zlog.txt"
check "results --log (zstd) has no raw control byte" no_raw "$TMP/zlog.txt"
check "results --log (zstd): the cap's marker" \
	grep -q -- "^--- hvmatrix: [0-9]* bytes cut here (log_limit 8192) ---$" \
	"$TMP/zlog.txt"
check "results --log (zstd): the tail is kept" \
	grep -q "the very last line" "$TMP/zlog.txt"
check "results --log (zstd): escapes gone, their text kept" \
	grep -q "^red alert " "$TMP/zlog.txt"
check "results --log (zstd): NUL shown as a picture" \
	grep -q "NUL␀here" "$TMP/zlog.txt"
check "results --log (zstd): footer" \
	grep -q -- "--- hvmatrix: nasty: FAIL: �" "$TMP/zlog.txt"
check "results --log (zstd): about as big as its 8 KiB cap" \
	test "$(wc -c < "$TMP/zlog.txt")" -lt 12000
"$HVM" results --log "$pid" > "$TMP/plog.txt"
check "results --log (plain, uncapped) is valid UTF-8" utf8 "$TMP/plog.txt"
check "results --log (plain) has no raw control byte" no_raw "$TMP/plog.txt"
expect_eq "results --log (plain): every line of the log" \
	"$(grep -c "^red alert" "$TMP/plog.txt")" 200
bid=$(jq -r '.[] | select(.cell == "broken") | .id' "$TMP/results.json")
rc=0
"$HVM" results --log "$bid" > "$TMP/blog.txt" 2> "$TMP/err" || rc=$?
expect_eq "results --log of a cut-short .zst fails (3)" "$rc" 3
check "... says it is truncated" grep -q "truncated zstd data" "$TMP/err"
check "... after what it could read" grep -q "^red alert " "$TMP/blog.txt"
check "... still valid UTF-8" utf8 "$TMP/blog.txt"
rc=0
"$HVM" results --log 999 > /dev/null 2> "$TMP/err" || rc=$?
expect_eq "results --log of an unknown run fails" "$rc" 3
check "... and says so" grep -q "no run 999" "$TMP/err"

"$HVM" dashboard --out "$TMP/site" > /dev/null
for f in $(cd "$TMP/site" && find . -type f | sort); do
	check "dashboard $f is valid UTF-8" utf8 "$TMP/site/$f"
	check "dashboard $f has no raw ESC, NUL or control" no_raw "$TMP/site/$f"
done
check "dashboard: a page per log" test -s "$TMP/site/run/$zid.html" -a \
	-s "$TMP/site/run/$pid.html"
check "dashboard log page: read through the compression, cap marker kept" \
	grep -q -- "bytes cut here (log_limit 8192)" "$TMP/site/run/$zid.html"
check "dashboard log page: escapes gone, their text kept" \
	grep -q "</a>red alert " "$TMP/site/run/$zid.html"
check "dashboard log page of a cut-short log: what it gave, and why" \
	grep -q -- "<p class=\"hint\">hvmatrix: .*truncated zstd data" \
	"$TMP/site/run/$bid.html"
# The page parses, its grid marks each run's verdict, and the FAIL's run
# page shows its decisive line, cleaned.
check "dashboard grid: each cell's verdict; the FAIL's line on its page" \
	python3 - "$TMP/site" <<'EOF'
import os, sys
from html.parser import HTMLParser

class Grid(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth = 0
        self.cells = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("class") == "grid":
            self.depth = 1
        elif self.depth and tag == "td":
            self.cells.append(a)
        elif self.depth and tag == "a" and self.cells:
            self.cells[-1]["href"] = a.get("href")
    def handle_endtag(self, tag):
        if tag == "table":
            self.depth = 0

site = sys.argv[1]
g = Grid()
g.feed(open(os.path.join(site, "index.html"), encoding="utf-8",
            errors="strict").read())
by = {c.get("class"): c for c in g.cells}
assert "m c-bad" in by and "m c-ok" in by, by
page = open(os.path.join(site, by["m c-bad"]["href"]), encoding="utf-8",
            errors="strict").read()
assert "not syncing: \ufffd\ufffd red" in page, ascii(page[:2000])
assert "\x1b" not in page and "<script" not in page
EOF
finish
