#!/usr/bin/env bash
# Integration: the Slurm executor against a real single-node Slurm
# (munged, slurmctld, slurmd from Debian), started by this test on
# 127.0.0.1 with its configuration, state and ports in the test's own
# directory, and stopped by pid.
#
# Two trees of one commit each, a good kernel and one broken under VMware
# (build-test-kernels.sh), boot in a plain and a VMware cell, once with the
# local executor and once through Slurm: the verdicts must be the same.
# In the Slurm run:
#  - a third cell hangs (its init sleeps); the test scancels every job of
#    it: each is recorded ERROR with Slurm's state, never FAIL;
#  - slurmctld is stopped while the first jobs run and started again a few
#    seconds later: the run completes, submission pauses and resumes, and
#    every cell is recorded exactly once.
. "$(dirname "$0")/lib.sh"

for t in munged mungekey slurmctld slurmd sbatch squeue scancel sinfo; do
	command -v "$t" > /dev/null || {
		echo "not ok 1 - $t is missing (tools/setup.sh installs slurm)"
		exit 99
	}
done
[ "$(id -u)" = 0 ] || { echo "ok 1 # SKIP slurmd must run as root"; exit 0; }
kernels=$(sh "$top_srcdir/images/kernels/build-test-kernels.sh" \
	"$top_builddir/cache" 2> "$TMP/build.err") || {
	sed 's/^/# /' "$TMP/build.err"
	echo "not ok 1 - cannot build the test kernels"
	exit 99
}
good=$(echo "$kernels" | sed -n 1p)
vmware=$(echo "$kernels" | sed -n 2p)

# ---- a private Slurm cluster ------------------------------------------
SL=$TMP/slurm
mkdir -p "$SL/state" "$SL/spool" "$SL/log"
chmod 755 "$TMP" "$SL"
node=$(hostname -s)
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		ss -ltnH "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
	done
}
ctld_port=$(free_port)
slurmd_port=$(free_port)
[ "$slurmd_port" != "$ctld_port" ] || slurmd_port=$((ctld_port + 1))
mungekey --create --keyfile="$SL/munge.key" 2>/dev/null ||
	dd if=/dev/urandom of="$SL/munge.key" bs=1024 count=1 status=none
chmod 600 "$SL/munge.key"
hw=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
export SLURM_CONF=$SL/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=hvmtest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SL/munge.sock
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$SL/state
SlurmdSpoolDir=$SL/spool
SlurmctldPidFile=$SL/slurmctld.pid
SlurmdPidFile=$SL/slurmd.pid
SlurmctldLogFile=$SL/log/slurmctld.log
SlurmdLogFile=$SL/log/slurmd.log
MailProg=/bin/true
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MinJobAge=600
KillWait=5
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
munge_pid= ctld_pid= slurmd_pid=
start_ctld() {
	slurmctld -D -f "$SLURM_CONF" > "$SL/log/ctld.out" 2>&1 &
	ctld_pid=$!
}
stop_pid() {	# stop_pid PID: TERM, then KILL after 10 s
	local pid=$1 i
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
stop_slurm() {
	local jobs
	if [ -n "$ctld_pid" ] && kill -0 "$ctld_pid" 2>/dev/null; then
		jobs=$(squeue -h -o %A 2>/dev/null)
		[ -z "$jobs" ] || scancel $jobs 2>/dev/null
	fi
	stop_pid "$slurmd_pid"
	stop_pid "$ctld_pid"
	stop_pid "$munge_pid"
	slurmd_pid= ctld_pid= munge_pid=
}
trap 'stop_slurm; cleanup' EXIT
munged -F --key-file="$SL/munge.key" --socket="$SL/munge.sock" \
	--pid-file="$SL/munged.pid" --log-file="$SL/munged.log" \
	--seed-file="$SL/munged.seed" > "$SL/log/munged.out" 2>&1 &
munge_pid=$!
wait_for 10 test -S "$SL/munge.sock" || {
	sed 's/^/# /' "$SL/log/munged.out" "$SL/munged.log" 2>/dev/null
	echo "not ok 1 - munged did not start"
	exit 99
}
start_ctld
slurmd -D -f "$SLURM_CONF" > "$SL/log/slurmd.out" 2>&1 &
slurmd_pid=$!
node_idle() { [ "$(sinfo -h -N -n "$node" -o %T 2>/dev/null)" = idle ]; }
if ! wait_for 60 node_idle; then
	tail -n 20 "$SL"/log/* | sed 's/^/# /'
	echo "not ok 1 - the Slurm node never became idle"
	exit 99
fi
ok "a single-node Slurm runs on 127.0.0.1 (ports $ctld_port, $slurmd_port)"

# ---- trees, matrices --------------------------------------------------
tree() {	# tree NAME KERNEL
	local dir=$TMP/$1
	mkdir -p "$dir"
	git -C "$dir" init -q -b master
	cat > "$dir/Makefile" <<MK
tinyconfig olddefconfig:
	mkdir -p \$(O) && touch \$(O)/.config
bzImage:
	mkdir -p \$(O)/arch/x86/boot
	cp $2 \$(O)/arch/x86/boot/bzImage
MK
	git -C "$dir" add -A
	git -C "$dir" -c user.name=t -c user.email=t@example.org \
		commit -q -m "$1"
}
tree good "$good"
tree bad "$vmware"
cells="  - name: plain
    expect: hypervisor=none
    silence: 20
  - name: vmware
    machine: pc,vmport=on
    cpu: max,-hypervisor
    qemu_args: [-smbios, \"type=1,serial=VMware-0\"]
    expect: \"Hypervisor detected: VMware\"
    silence: 10"
head="trees:
  - name: good
    path: $TMP/good
  - name: bad
    path: $TMP/bad
builds:
  - name: b
    base: tinyconfig"
printf '%s\ncells:\n%s\n' "$head" "$cells" > "$TMP/local.yaml"
cat > "$TMP/slurm.yaml" <<YAML
$head
executor:
  kind: slurm
  partition: debug
  shared_dir: $TMP/shared
cells:
$cells
  - name: hang
    cmdline: "rdinit=/bin/busybox sleep 600"
    silence: 200
    timeout: 240
YAML
verdicts() {	# verdicts STATE: "tree/cell=VERDICT" lines, sorted
	"$HVM" results --json --state "$1" |
		jq -r '.[] | select(.cell != "hang") | "\(.tree)/\(.cell)=\(.verdict)"' | sort
}

# ---- the local executor -----------------------------------------------
"$HVM" daemon --matrix "$TMP/local.yaml" --state "$TMP/s-local" --jobs 2 \
	--until-idle > "$TMP/local.log" 2>&1
local_rc=$?
expect_eq "local executor: the good kernel passes, the broken one FAILs under VMware" \
	"$(verdicts "$TMP/s-local" | tr '\n' ' ')" \
	"bad/plain=PASS bad/vmware=FAIL good/plain=PASS good/vmware=PASS "

# ---- through Slurm ----------------------------------------------------
"$HVM" daemon --matrix "$TMP/slurm.yaml" --state "$TMP/s-slurm" --jobs 2 \
	--until-idle > "$TMP/slurm.log" 2>&1 &
daemon_pid=$!
# Cancel every job of the hang cell once it runs; restart slurmctld once,
# while the first jobs of the other cells run.
restarted=0 cancelled=0
while kill -0 "$daemon_pid" 2>/dev/null; do
	running=$(squeue -h -t RUNNING -o '%i %j' 2>/dev/null)
	while read -r id name; do
		[ -n "$id" ] || continue
		spec=$TMP/shared/runs/$name/spec.json
		if [ -f "$spec" ] && jq -e '.cell.name == "hang"' "$spec" > /dev/null; then
			scancel "$id" && cancelled=$((cancelled + 1))
		elif [ "$restarted" = 0 ]; then
			restarted=1
			stop_pid "$ctld_pid"
			sleep 10
			start_ctld
		fi
	done <<< "$running"
	sleep 0.2
done
wait "$daemon_pid"
rc=$?
expect_eq "the daemon ends (until-idle) with the local run's exit status" \
	"$rc" "$local_rc"
expect_eq "Slurm executor: the same verdicts as the local one" \
	"$(verdicts "$TMP/s-slurm" | tr '\n' ' ')" \
	"$(verdicts "$TMP/s-local" | tr '\n' ' ')"
check "the verdicts were decided on the node (run-cell results ingested)" \
	test "$(ls "$TMP"/shared/runs/*/result.json 2>/dev/null | wc -l)" -ge 4
expect_eq "slurmctld was restarted in the middle of the run" "$restarted" 1
check "the outage paused the executor and it resumed" \
	sh -c "grep -q 'slurmctld does not answer' '$TMP/slurm.log' &&
	       grep -q 'answers again' '$TMP/slurm.log'"
expect_eq "every cell recorded exactly once despite the restart" \
	"$("$HVM" results --json --state "$TMP/s-slurm" | jq -r '[.[] | "\(.tree)/\(.cell)"] | group_by(.) | map(length) | unique | join(" ")')" 1
hang=$("$HVM" results --json --state "$TMP/s-slurm" --cell hang)
expect_eq "a job cancelled with scancel is ERROR, never FAIL" \
	"$(echo "$hang" | jq -r '[.[] | .verdict] | unique | join(" ")')" ERROR
check "its reason is Slurm's ($(echo "$hang" | jq -r '.[0].reason'))" \
	test "$(echo "$hang" | jq -r '[.[] | select(.reason | contains("CANCELLED"))] | length')" = 2
check "each cancelled run was retried under the failure policy (3 jobs per tree, $cancelled cancelled)" \
	test "$cancelled" -ge 6
check "nothing left in Slurm's queue" \
	test -z "$(squeue -h -t PENDING,RUNNING 2>/dev/null)"
if [ "$t_failed" -gt 0 ]; then
	sed 's/^/# /' "$TMP/slurm.log" | tail -n 60
fi
finish
