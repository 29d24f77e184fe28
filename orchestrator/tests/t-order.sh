#!/usr/bin/env bash
# Integration: within a job the cells likeliest to fail boot first. A
# commit that touches arch/x86/xen/ starts its Xen cell before the plain
# ones that come first in the matrix; a commit touching nothing of
# interest keeps matrix order (read from the runs' started_at in the
# store). The tree's make copies the prebuilt kernel (tiny_tree), the
# daemon runs one boot at a time (--jobs 1), and the Xen cell is the
# cheapest there is: one PV dom0 of Xen 4.17.
# Then a confirmed FAIL is told while its job still runs: a commit that
# breaks VMware (the test kernels of build-test-kernels.sh) fails in two
# VMware cells; confirmation and bisection jobs boot each again, and the
# webhook event of the first cell's regression is in the outbox before
# the last job's last run has ended (the endpoint refuses connections:
# the event stays queued, with the time it was queued).
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

# A confirmed FAIL is told before its job ends.
test_kernels
tree2=$TMP/tree2
kernel_tree "$tree2"
c_good=$(kernel_commit "$tree2" "good" "$good")
c_bad=$(kernel_commit "$tree2" "vmware: break platform setup" "$vmware")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
vmware_cell() {
	cat <<YAML
  - name: $1
    machine: pc,vmport=on
    cpu: max,-hypervisor
    qemu_args: [-smbios, "type=1,serial=VMware-0"]
    expect: "Hypervisor detected: VMware"
    silence: 20
YAML
}
cat > "$TMP/m2.yaml" <<YAML
trees:
  - name: t
    path: $tree2
    first: 2
    confirm: 1
builds:
  - name: b
    base: tinyconfig
webhooks:
  - url: http://127.0.0.1:$port/hook
    secret_env: HVM_ORDER_HOOK
cells:
$(vmware_cell vmware-a)
$(vmware_cell vmware-b)
YAML
state2=$TMP/state2
t0=$(date +%s)
rc=0
HVM_ORDER_HOOK=s3cret "$HVM" daemon --matrix "$TMP/m2.yaml" \
	--state "$state2" --jobs 1 --until-idle > "$TMP/daemon2.log" 2>&1 ||
	rc=$?
sed 's/^/# /' "$TMP/daemon2.log" | grep -v "^#   " | tail -12
echo "# daemon: $(($(date +%s) - t0)) s"
db2() { sqlite3 "$state2/hvmatrix.db" "$1"; }
db2 "SELECT substr(commit_id, 1, 7), cell, purpose, verdict,
	printf('%.2f', started_at), printf('%.2f', started_at + duration_s),
	substr(reason, 1, 100) FROM runs ORDER BY started_at" |
	sed 's/^/# run /'
db2 "SELECT substr(commit_id, 1, 7), state, printf('%.2f', started_at),
	printf('%.2f', finished_at) FROM jobs" | sed 's/^/# job /'
db2 "SELECT event, cell, printf('%.2f', created_at) FROM outbox" |
	sed 's/^/# outbox /'
expect_eq "the broken commit FAILs in both VMware cells, confirmed" \
	"$(db2 "SELECT group_concat(cell || '=' || purpose, ' ') FROM
		(SELECT DISTINCT cell, purpose FROM runs WHERE commit_id =
		'$c_bad' AND verdict = 'FAIL' AND purpose != 'bisect'
		ORDER BY cell, purpose DESC)")" \
	"vmware-a=test vmware-a=confirm vmware-b=test vmware-b=confirm"
# The regression's event is queued once its bisection is settled
# (webhook-event.c): here by the good commit's bisection runs of
# vmware-a, while that job still boots vmware-b's. Told only at the
# job's end, it would come after the last run and the last job.
queued=$(db2 "SELECT min(created_at) FROM outbox WHERE cell = 'vmware-a'")
last_end=$(db2 "SELECT max(started_at + duration_s) FROM runs")
finished=$(db2 "SELECT max(finished_at) FROM jobs")
echo "# vmware-a's event queued at $queued; the last run ended at $last_end, the last job at $finished"
check "vmware-a's regression event is queued" test -n "$queued"
check "... before the last run ended" \
	python3 -c "import sys; sys.exit(not $queued < $last_end)"
check "... and before the last job was done" \
	python3 -c "import sys; sys.exit(not $queued < $finished)"
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
