#!/usr/bin/env bash
# Integration: the compatibility web kept current by the daemon, with no
# commit and no command. Two web kernels (a real Debian image from the
# kernel catalogue setup fetched, and the good test kernel standing in
# for a second release) boot in every web cell; a cell of another QEMU
# release added to the matrix boots both kernels there and nothing else;
# removed and added again, unchanged, it boots nothing; the QEMU binary
# of a cell changed (a copy of the host's, given by path, bytes appended)
# boots both kernels again there, as a new hypervisor build beside the
# runs of the old one. A kernel release added while the daemon runs boots
# in every web cell once the matrix is reloaded.
. "$(dirname "$0")/lib.sh"
test_kernels
real=$(HVMATRIX_KERNELS_DIR=${HVMATRIX_KERNELS_DIR:-$top_builddir/cache/kernels} \
	"$HVM" kernels --json 2>/dev/null | jq -r '.[] | select(.release == "6.1") | .path')
if [ -z "$real" ] || [ ! -r "$real" ]; then
	echo "not ok 1 - no Debian 6.1 kernel in the catalogue: run tools/setup.sh"
	exit 99
fi
# The test's own catalogue: Debian's 6.1 and the stand-in "9.9".
export HVMATRIX_KERNELS_DIR=$TMP/kernels
add_kernel() {
	local rel=$1 img=$2 d=$TMP/kernels/$1
	mkdir -p "$d"
	ln -s "$img" "$d/vmlinuz"
	printf 'release %s\npackage %s\nversion %s\npath vmlinuz\nsha256 %s\n' \
		"$rel" "$3" "$4" "$(sha256sum "$img" | cut -d' ' -f1)" \
		> "$d/manifest"
}
add_kernel 6.1 "$real" linux-image-6.1-test 6.1-debian
add_kernel 9.9 "$good" linux-image-stand-in 9.9-test
id61=$(sha256sum "$real" | cut -d' ' -f1)
id99=$(sha256sum "$good" | cut -d' ' -f1)
# A copy of the host's QEMU, given by path. Debian's QEMU finds its
# modules and firmware relative to its binary (../lib, ../share): those
# are linked beside the copy.
q=$TMP/qemu
mkdir -p "$q/bin" "$q/lib/x86_64-linux-gnu" "$q/lib/ipxe" "$q/share"
cp "$(command -v qemu-system-x86_64)" "$q/bin/qemu-system-x86_64"
ln -s /usr/lib/x86_64-linux-gnu/qemu "$q/lib/x86_64-linux-gnu/qemu"
ln -s /usr/lib/ipxe/qemu "$q/lib/ipxe/qemu"
ln -s /usr/share/qemu "$q/share/qemu"
ln -s /usr/share/seabios "$q/share/seabios"

cell() {
	cat <<YAML
  - name: $1
    qemu: $2
    expect: hypervisor=none
    timeout: 120
YAML
}
write_matrix() {
	{
		echo "version: 1"
		echo "cells:"
		cell tcg-10.0 '"10.0"'
		cell tcg-copy "$q/bin/qemu-system-x86_64"
		[ "${1:-}" = with-7.2 ] && cell tcg-7.2 '"7.2"'
		echo "web:"
		echo '  kernels: ["6.1", "9.9"]'
	} > "$TMP/m.yaml"
}
daemon() {
	local rc=0
	"$HVM" daemon --matrix "$TMP/m.yaml" --jobs 2 --until-idle \
		> "$TMP/daemon$1.log" 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		echo "# daemon $1: exit $rc"
		sed "s/^/# daemon $1: /" "$TMP/daemon$1.log"
	else
		sed "s/^/# daemon $1: /" "$TMP/daemon$1.log" |
			grep -E 'web|PASS|FAIL|ERROR|SKIP' || true
	fi
}
q() { sqlite3 "$HVMATRIX_STATE/hvmatrix.db" "$1"; }
web_runs() { q "SELECT count(*) FROM runs WHERE tree = 'release' $1"; }
pairs() {
	q "SELECT cell || ':' || substr(commit_id, 1, 8) || '=' || count(*) FROM runs WHERE tree = 'release' GROUP BY cell, commit_id ORDER BY cell, commit_id" | tr '\n' ' '
}
s61=${id61:0:8} s99=${id99:0:8}
sorted() { tr ' ' '\n' | grep . | sort | tr '\n' ' '; }

t0=$(date +%s)
write_matrix
"$HVM" matrix check "$TMP/m.yaml" > "$TMP/check.out" 2>&1
check "the matrix with a web section checks" grep -q "ok" "$TMP/check.out"

daemon 1
expect_eq "start: every web kernel boots in every web cell, no commit" \
	"$(pairs)" "$(echo "tcg-10.0:$s61=1 tcg-10.0:$s99=1 tcg-copy:$s61=1 tcg-copy:$s99=1" | sorted)"
expect_eq "... every run PASSes, as purpose web, build release" \
	"$(q "SELECT verdict || '/' || purpose || '/' || build FROM runs GROUP BY 1")" \
	"PASS/web/release"
expect_eq "... each web kernel is a commit of the tree release" \
	"$(q "SELECT subject || '|' || author || '|' || parent FROM commits WHERE tree = 'release' ORDER BY subject" | tr '\n' ';')" \
	"Debian linux-image-6.1-test 6.1-debian|Debian|;Debian linux-image-stand-in 9.9-test|Debian|;"
expect_eq "... and a web_kernels row keyed by its image's sha256" \
	"$(q "SELECT release || '=' || id FROM web_kernels ORDER BY release" | tr '\n' ' ')" \
	"6.1=$id61 9.9=$id99 "
expect_eq "... no other tree, no confirmation nor bisection wanted" \
	"$(q "SELECT count(*) FROM runs WHERE tree <> 'release'")/$(q "SELECT count(*) FROM wants WHERE purpose <> 'web'")" "0/0"
"$HVM" regressions --json > "$TMP/reg.json" 2>/dev/null
expect_eq "... and no regression for the parentless release commits" \
	"$(jq 'length' "$TMP/reg.json" 2>/dev/null || echo error)" 0

"$HVM" dashboard --out "$TMP/dash" > "$TMP/dash.out" 2>&1
check "the dashboard publishes the web's runs" \
	grep -rqs "Debian linux-image-stand-in 9.9-test" "$TMP/dash"
expect_eq "... and results lists them" \
	"$("$HVM" results --tree release --json 2>/dev/null | jq length)" 4

write_matrix with-7.2
daemon 2
expect_eq "a cell of another QEMU release added: both kernels boot there, nothing else" \
	"$(pairs)" "$(echo "tcg-10.0:$s61=1 tcg-10.0:$s99=1 tcg-7.2:$s61=1 tcg-7.2:$s99=1 tcg-copy:$s61=1 tcg-copy:$s99=1" | sorted)"
check "... the daemon said why" grep -q "web: kernel 6.1 .* boots in 1 cell: tcg-7.2$" "$TMP/daemon2.log"

write_matrix
daemon 3
write_matrix with-7.2
daemon 4
expect_eq "removed and added again unchanged: nothing boots" "$(web_runs "")" 6
check "... and the daemon queued nothing" sh -c "! grep -q 'boots in' '$TMP/daemon4.log'"

old=$(q "SELECT DISTINCT hv_build FROM runs WHERE cell = 'tcg-copy'")
printf 'changed' >> "$q/bin/qemu-system-x86_64"
daemon 5
expect_eq "the cell's QEMU binary changed: both kernels boot there again" \
	"$(pairs)" "$(echo "tcg-10.0:$s61=1 tcg-10.0:$s99=1 tcg-7.2:$s61=1 tcg-7.2:$s99=1 tcg-copy:$s61=2 tcg-copy:$s99=2" | sorted)"
expect_eq "... kept per hypervisor build: the old runs beside the new ones" \
	"$(q "SELECT count(DISTINCT hv_build) FROM runs WHERE cell = 'tcg-copy' AND hv_build <> ''")/$(q "SELECT count(*) FROM runs WHERE cell = 'tcg-copy' AND hv_build = '$old'")" "2/2"
# The other direction, through a reload of a running daemon: a kernel
# release added to the web boots in every web cell, nothing else does.
"$HVM" daemon --matrix "$TMP/m.yaml" --jobs 2 > "$TMP/daemon6.log" 2>&1 &
dpid=$!
wait_for 30 grep -q "hvmatrix daemon: matrix" "$TMP/daemon6.log"
add_kernel 9.8 "$xenpv" linux-image-second-stand-in 9.8-test
id98=$(sha256sum "$xenpv" | cut -d' ' -f1)
sed -i 's/kernels: \["6.1", "9.9"\]/kernels: ["6.1", "9.9", "9.8"]/' "$TMP/m.yaml"
booted98() { test "$(web_runs "AND commit_id = '$id98'")" = 3; }
check "a kernel release added, the daemon reloads: it boots in all 3 cells" \
	wait_for 150 booted98
sleep 2
kill -TERM "$dpid"
wait "$dpid" || true
sed "s/^/# daemon 6: /" "$TMP/daemon6.log" | grep -E 'web|reload|PASS|FAIL|ERROR' || true
expect_eq "... and nothing else booted" "$(web_runs "")" 11
echo "# wall time: $(($(date +%s) - t0)) s"
check "no QEMU or daemon left behind" test -z "$(leftovers)"
finish
