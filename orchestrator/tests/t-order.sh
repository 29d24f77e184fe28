#!/usr/bin/env bash
# Integration: within a job the cells likeliest to fail boot first. A
# commit that touches arch/x86/xen/ starts its Xen cell before the plain
# ones that come first in the matrix; a commit touching nothing of
# interest keeps matrix order (read from the runs' started_at in the
# store). The tree's make copies the prebuilt kernel (tiny_tree), the
# daemon runs one boot at a time (--jobs 1), and the Xen cell is the
# cheapest there is: one PV dom0 of Xen 4.17.
. "$(dirname "$0")/lib.sh"
need_kernel
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
if [ ! -f "$HVMATRIX_XEN_DIR/4.17/complete" ]; then
	echo "not ok 1 - no Xen 4.17 build in $HVMATRIX_XEN_DIR (tools/setup.sh)"
	exit 99
fi

tree=$TMP/tree
tiny_tree "$tree" 1
# commit_path PATH SUBJECT: a commit that changes PATH only; its id.
commit_path() {
	mkdir -p "$tree/$(dirname "$1")"
	echo "$2" > "$tree/$1"
	git -C "$tree" add -A
	git -C "$tree" -c user.name=t -c user.email=t@example.org \
		commit -q -m "$2"
	git -C "$tree" rev-parse HEAD
}
c_xen=$(commit_path arch/x86/xen/enlighten_pv.c "xen: touch the PV entry")
c_doc=$(commit_path Documentation/x86/boot.rst "docs: nothing of interest")

cat > "$TMP/m.yaml" <<YAML
trees:
  - name: t
    path: $tree
    first: 2
builds:
  - name: b
    base: tinyconfig
cells:
  - name: plain-a
    expect: hypervisor=none
  - name: plain-b
    machine: q35
    expect: hypervisor=none
  - name: xen-pv-dom0
    backend: xen
    xen: "4.17"
    cpu: max,-smap,-smep,-pku,-la57
    memory: 1024
    expect: "Hypervisor detected: Xen PV"
YAML
state=$TMP/state
t0=$(date +%s)
rc=0
"$HVM" daemon --matrix "$TMP/m.yaml" --state "$state" --jobs 1 \
	--until-idle > "$TMP/daemon.log" 2>&1 || rc=$?
sed 's/^/# /' "$TMP/daemon.log" | grep -v "^#   " | tail -20
echo "# daemon: $(($(date +%s) - t0)) s"
expect_eq "the daemon ends idle" "$rc" 0

# The cells of commit $1 in the order their runs started.
started() {
	sqlite3 "$state/hvmatrix.db" "SELECT group_concat(cell, ' ') FROM
		(SELECT cell FROM runs WHERE commit_id = '$1'
		 ORDER BY started_at, id)"
}
expect_eq "a commit touching arch/x86/xen/: the Xen cell starts first" \
	"$(started "$c_xen")" "xen-pv-dom0 plain-a plain-b"
expect_eq "a commit touching nothing of interest: matrix order" \
	"$(started "$c_doc")" "plain-a plain-b xen-pv-dom0"
check "the daemon says why the Xen cell went first" \
	grep -q "${c_xen:0:12} b: first the 1 cell whose interface it touches" \
	"$TMP/daemon.log"
# The order changes which run starts first, never a verdict.
expect_eq "every run passes" \
	"$(sqlite3 "$state/hvmatrix.db" "SELECT group_concat(DISTINCT verdict) FROM runs")" \
	PASS
expect_eq "six runs, one per cell and commit" \
	"$(sqlite3 "$state/hvmatrix.db" "SELECT count(*) FROM runs")" 6
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
