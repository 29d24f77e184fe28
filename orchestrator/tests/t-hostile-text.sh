#!/usr/bin/env bash
# Integration: hostile text in commits. A tree (kernel_tree: each commit
# installs a prebuilt test kernel, or fails to build) whose subjects carry
# CSI cursor escapes, an OSC 52 clipboard write, raw C1 bytes, CR, BS,
# TAB, BEL, HTML, invalid UTF-8 and 100 KB, and whose authors carry the
# same and RFC 5322 specials: the first bad commit's author is
#   "Evil\" <x@evil.example>; (c) victim@evil.example, Foo <a@kernel.example>
# (written as a raw commit object, since git's own ident cleaning drops
# the angle brackets). One VMware cell: c1 and c6 PASS, c2-c5 do not build
# (BLOCKED, no boot), c7 panics under VMware: a regression whose mail goes
# to its author. The daemon runs once (--until-idle); then every way the
# farm shows that text must hold:
#  - the store keeps each subject byte for byte (as git has it);
#  - the daemon's lines, `results`, `status`, `regressions` (tables and
#    --json) and the mail have no control byte, no C1 and no invalid UTF-8;
#    the --json is valid JSON and holds the subjects;
#  - the dashboard's pages have none either, and the subjects' HTML shows
#    escaped, never as markup;
#  - `report`'s To: and Cc: name exactly the author's address, never an
#    address from the display name;
#  - the KCIDB export is valid JSON.
# It prints what was tried and what held.
. "$(dirname "$0")/lib.sh"

for tool in jq sqlite3 python3; do
	command -v $tool > /dev/null || { echo "# SKIP: no $tool"; exit 77; }
done
test_kernels
ctl() { python3 "$top_srcdir/orchestrator/tests/ctl-bytes.py" "$@"; }

tree=$TMP/tree
kernel_tree "$tree"
e=$'\e' a=$'\a'
long=$(printf 'long: %0102400d' 0 | tr 0 A)
# raw_commit SUBJECT AUTHOR KERNEL [broken]: a commit object written as is
# (author "NAME <MAIL>", any bytes but NUL and newline), its id printed.
raw_commit() {
	local parent=() t
	echo "$3" > "$tree/kernel"
	if [ "${4:-}" = broken ]; then touch "$tree/broken"; else rm -f "$tree/broken"; fi
	git -C "$tree" add -A
	t=$(git -C "$tree" write-tree)
	git -C "$tree" rev-parse -q --verify HEAD > /dev/null &&
		parent=("parent $(git -C "$tree" rev-parse HEAD)")
	{
		printf 'tree %s\n' "$t"
		[ ${#parent[@]} -gt 0 ] && printf '%s\n' "${parent[0]}"
		printf 'author %s %s +0000\n' "$2" "$(date +%s)"
		printf 'committer C O Mitter <committer@example.org> %s +0000\n' \
			"$(date +%s)"
		printf '\n%s\n' "$1"
	} > "$TMP/object"
	t=$(git -C "$tree" hash-object -t commit -w --literally "$TMP/object")
	git -C "$tree" update-ref refs/heads/master "$t"
	echo "$t"
}
s1="csi: ${e}[2J${e}[H${e}[31mred${e}[0m ${e}[?1049h cleared the screen"
s2="osc52: ${e}]52;c;ZWNobyBvd25lZA==${a} ${e}]0;title${e}\\ set the clipboard"
s3=$(printf 'c1: \x9b31m raw CSI \x9d0;title\x9c \x85 NEL \x90 DCS')
s4=$(printf 'cr bs tab bel: build FAILED\rbuild OK    \b\b\tX\a')
s5="html: <script>alert(1)</script> & \"q\" 'q' <img src=x onerror=alert(1)>"
s6=$(printf 'utf-8: \xff\xfe \xc3\x28 \xed\xa0\x80 \xc0\xaf %s' "$long")
s7=$(printf 'vmware: <b>break</b> \xe2\x82 \x1b[8m platform setup')
au="A U Thor <author@example.org>"
c1=$(raw_commit "$s1" "$au" "$good")
c2=$(raw_commit "$s2" "Osc ${e}]52;c;aGk=${a}Name <osc@example.org>" "$good" broken)
c3=$(raw_commit "$s3" "$(printf 'C1 \x9b2J Name') <c1@example.org>" "$good" broken)
c4=$(raw_commit "$s4" "$(printf 'Cr\rBel\a Name') <cr@example.org>" "$good" broken)
c5=$(raw_commit "$s5" "Html <script>x</script> <html@example.org>" "$good" broken)
c6=$(raw_commit "$s6" "$(printf 'Bad \xff\xfe UTF-8') <utf8@example.org>" "$good")
bad_author='"Evil\" <x@evil.example>; (c) victim@evil.example, Foo <a@kernel.example>'
c7=$(raw_commit "$s7" "$bad_author" "$vmware")
echo "# tried: 7 commits; subjects with CSI, OSC 52, raw C1, CR/BS/TAB/BEL,"
echo "#   HTML, invalid UTF-8 + ${#long} bytes, ESC in a regression's subject;"
echo "#   authors with OSC 52, C1, CR/BEL, HTML, invalid UTF-8 and"
echo "#   $bad_author"

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
    silence: 20
YAML
state=$TMP/state
db=$state/hvmatrix.db
rc=0
timeout 300 "$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 2 \
	--until-idle > "$TMP/daemon.out" 2> "$TMP/daemon.err" || rc=$?
echo "# daemon --until-idle: exit $rc"
sed 's/^/#   /' "$TMP/daemon.err" | cut -c1-160 | tail -5
check "the daemon ends its run" test "$rc" -le 1

# ---- the store ------------------------------------------------------
verdicts=$(sqlite3 "$db" "SELECT substr(commit_id, 1, 12) || '=' || group_concat(DISTINCT verdict) FROM runs GROUP BY commit_id" | sort)
echo "# verdicts: $(echo $verdicts)"
v() { sqlite3 "$db" "SELECT group_concat(DISTINCT verdict) FROM runs WHERE commit_id = '$1'"; }
expect_eq "c1 and c6 PASS" "$(v "$c1") $(v "$c6")" "PASS PASS"
expect_eq "c2-c5 BLOCKED" "$(v "$c2") $(v "$c3") $(v "$c4") $(v "$c5")" \
	"BLOCKED BLOCKED BLOCKED BLOCKED"
expect_eq "c7 FAILs" "$(v "$c7")" FAIL
subject_col=$(sqlite3 "$db" "SELECT name FROM pragma_table_info('commits') WHERE name = 'subject'")
expect_eq "the store has commits.subject" "$subject_col" subject
n=0 held=0
for c in $c1 $c2 $c3 $c4 $c5 $c6 $c7; do
	n=$((n + 1))
	eval "subject=\$s$n"
	want=$(printf %s "$subject" | od -An -v -tx1 | tr -d ' \n')
	got=$(sqlite3 "$db" "SELECT hex(subject) FROM commits WHERE id = '$c'" | tr 'A-F' 'a-f')
	if [ "$want" = "$got" ]; then held=$((held + 1))
	else echo "# c$n: store ${got:0:80}... git ${want:0:80}..."; fi
done
expect_eq "the store keeps all 7 subjects byte for byte" "$held" 7

# ---- what a terminal sees -------------------------------------------
for f in daemon.out daemon.err; do
	check "the daemon's $f has no control byte, C1 or invalid UTF-8" \
		ctl "$TMP/$f"
done
check "... and its lines did name the commits (the check can fail)" \
	grep -q "${c7:0:12}" "$TMP/daemon.out" "$TMP/daemon.err"
hvm() { "$HVM" "$@" --state "$state"; }
hvm results > "$TMP/results.txt"
hvm results --json > "$TMP/results.json"
hvm results --commits > "$TMP/commits.txt"
hvm status --matrix "$TMP/m.yaml" > "$TMP/status.txt"
hvm status --matrix "$TMP/m.yaml" --json > "$TMP/status.json"
hvm regressions --matrix "$TMP/m.yaml" --all > "$TMP/regressions.txt"
hvm regressions --matrix "$TMP/m.yaml" --all --json > "$TMP/regressions.json"
for f in results.txt results.json commits.txt status.txt status.json \
	regressions.txt regressions.json; do
	check "$f: no control byte, C1 or invalid UTF-8" ctl "$TMP/$f"
done
for f in results.json status.json regressions.json; do
	check "$f is valid JSON (jq, and Python's strict parser)" \
		eval "jq -e . '$TMP/$f' > /dev/null &&
		      python3 -c 'import json, sys; json.load(open(sys.argv[1]))' '$TMP/$f'"
done
check "results.txt names c7 (the check can fail)" grep -q "${c7:0:12}" "$TMP/results.txt"
check "commits.txt shows c5's subject with its HTML" \
	grep -q "html: <script>alert(1)</script>" "$TMP/commits.txt"
id=$(jq -r '[.[] | select(.first_bad.commit == "'"$c7"'")] | .[0].id' \
	"$TMP/regressions.json")
echo "# regression: $id"
check "one regression, first bad c7" test -n "$id" -a "$id" != null
expect_eq "its subject in --json is c7's, ESC as \\u001b (the bytes"\
" that are not UTF-8 replaced)" \
	"$(jq -r --arg id "$id" '.[] | select(.id == $id) | .first_bad.subject' \
		"$TMP/regressions.json" | od -An -c | tr -s ' \n' ' ')" \
	"$(printf 'vmware: <b>break</b> \xef\xbf\xbd \x1b[8m platform setup\n' | od -An -c | tr -s ' \n' ' ')"

# ---- the dashboard --------------------------------------------------
pages=$(find "$state/dashboard" -name '*.html' | sort)
echo "# dashboard: $(echo "$pages" | wc -l) pages"
bad_pages=$(for p in $pages; do ctl --html "$p"; done)
expect_eq "no page has a control byte (CR aside), C1 or invalid UTF-8" \
	"$bad_pages" ""
check "no page has a subject's or author's HTML as markup" \
	eval "! grep -l -e '<script>alert' -e '<img src=x' -e '<b>break' \
		-e '<script>x</script>' $(echo $pages)"
check "c5's subject shows escaped on its commit page (the check can fail)" \
	grep -rqF "&lt;script&gt;alert(1)&lt;/script&gt;" "$state/dashboard"
check "c7's subject shows escaped" grep -rqF "&lt;b&gt;break&lt;/b&gt;" \
	"$state/dashboard"

# ---- the mail -------------------------------------------------------
rc=0
hvm report "$id" --matrix "$TMP/m.yaml" > "$TMP/mail" 2> "$TMP/report.err" || rc=$?
expect_eq "report: exit 0" "$rc" 0
sed '/^$/q' "$TMP/mail" | sed 's/^/#   /'
check "the mail: no control byte, C1 or invalid UTF-8" ctl "$TMP/mail"
# The recipients as `sendmail -t` would read them: Python's RFC 5322
# header parser over To:, Cc: and Bcc:, one "address<TAB>name" line each.
python3 - "$TMP/mail" > "$TMP/rcpt" <<'PY'
import sys
from email import message_from_binary_file, policy
from email.utils import getaddresses
with open(sys.argv[1], "rb") as f:
    msg = message_from_binary_file(f, policy=policy.compat32)
fields = []
for h in ("To", "Cc", "Bcc"):
    fields += [str(v) for v in msg.get_all(h, [])]
for name, addr in getaddresses(fields):
    print("%s\t%s" % (addr.lower(), name))
PY
sed 's/^/# recipient: /' "$TMP/rcpt"
expect_eq "To:/Cc:/Bcc: name exactly the author's address" \
	"$(cut -f1 "$TMP/rcpt" | sort | tr '\n' ' ')" "a@kernel.example "
# The author's name as the store has it (git's parser, not ours): the
# display name must read back as that, specials and all.
name=$(sqlite3 "$db" "SELECT author FROM commits WHERE id = '$c7'" |
	sed 's/ <a@kernel\.example>$//')
echo "# c7's author name in the store: $name"
check "the store's author name has the outsider's address in it" \
	contains "$name" "victim@evil.example, Foo"
expect_eq "the display name reads back as that name" \
	"$(cut -f2 "$TMP/rcpt")" "$name"

# ---- KCIDB ----------------------------------------------------------
rc=0
"$HVM" export kcidb --state "$state" --matrix "$TMP/m.yaml" --origin t_lab \
	--out "$TMP/k.json" 2> "$TMP/k.err" || rc=$?
expect_eq "export kcidb: exit 0" "$rc" 0
check "the export is valid JSON (jq, and Python's strict parser)" \
	eval "jq -e . '$TMP/k.json' > /dev/null &&
	      python3 -c 'import json, sys; json.load(open(sys.argv[1]))' '$TMP/k.json'"
check "the export: no control byte, C1 or invalid UTF-8" ctl "$TMP/k.json"
expect_eq "it has c7's checkout" \
	"$(jq -r --arg c "$c7" '[.checkouts[] | select(.git_commit_hash == $c)] | length' "$TMP/k.json")" 1
finish
