#!/usr/bin/env bash
# Integration: Slurm's own faults against the Slurm executor, on a real
# single-node Slurm (munged, slurmctld, slurmd from Debian) started by this
# test on 127.0.0.1 and stopped by pid (tools/slurm-node.sh), configured
# with preemption: a second partition, high, of a higher PriorityTier,
# PreemptType=preempt/partition_prio, PreemptMode=REQUEUE.
#
# Each cell's init sleeps, so its QEMU runs until Slurm acts; every job
# (and every retry) of a cell gets the same fault once its QEMU runs:
#  - time limit: the job's TimeLimit is cut to a minute (scontrol update):
#    slurmctld ends it TIMEOUT (first attempt; its retries are scancelled);
#  - requeue: an administrator requeues it (scontrol requeue, after
#    Requeue=1, since hvmatrix submits --no-requeue): it must not run
#    again nor be ingested twice;
#    (these two run side by side, each job on one of the node's CPUs)
#  - node down: the node is marked DOWN (scontrol update state=down):
#    slurmctld fails its jobs NODE_FAIL and slurmd kills them; two cells
#    of one build, so two tasks of one job array, fail at once;
#  - preemption: a job in the high partition asks for the whole node:
#    slurmctld preempts the cell's job (PREEMPTED: --no-requeue keeps
#    PreemptMode=REQUEUE from requeueing it).
# Each is recorded ERROR with Slurm's reason, never FAIL, after the
# failure policy's retries (3 jobs), exactly once; and the QEMU of every
# job Slurm ended is gone (its pid, found under the job's slurmstepd).
. "$(dirname "$0")/lib.sh"
t_start=$(date +%s)

for t in munged mungekey slurmctld slurmd sbatch squeue scancel scontrol \
	sinfo ss jq; do
	command -v "$t" > /dev/null || {
		echo "not ok 1 - $t is missing (tools/setup.sh installs slurm)"
		exit 99
	}
done
[ "$(id -u)" = 0 ] || { echo "ok 1 # SKIP slurmd must run as root"; exit 0; }
test_kernels

# ---- a private Slurm cluster with preemption ---------------------------
. "$top_srcdir/tools/slurm-node.sh"
slurm_conf_extra="PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
PartitionName=high Nodes=ALL PriorityTier=2 MaxTime=INFINITE State=UP"
trap 'slurm_stop; cleanup' EXIT
chmod 755 "$TMP"
if ! slurm_start "$TMP/slurm" 2> "$TMP/slurm-start.err"; then
	sed 's/^/# /' "$TMP/slurm-start.err"
	echo "not ok 1 - the Slurm node never became idle"
	exit 99
fi
cpus=$(sinfo -h -N -n "$slurm_node" -o %c | head -n 1)
ok "a single-node Slurm with preemption runs ($cpus CPUs, partitions $(sinfo -h -o %P | tr '\n' ' '))"

kernel_tree "$TMP/tree"
kernel_commit "$TMP/tree" "one commit" "$good" > /dev/null
shared=$TMP/shared
matrix() {	# matrix FILE CELL...: hanging cells, through Slurm
	local f=$1 c
	shift
	cat > "$f" <<YAML
trees:
  - name: t
    path: $TMP/tree
builds:
  - name: b
    base: tinyconfig
executor:
  kind: slurm
  partition: debug
  shared_dir: $shared
cells:
YAML
	for c in "$@"; do
		printf '  - name: %s\n    cmdline: "rdinit=/bin/busybox sleep 600"\n    silence: 190\n    timeout: 200\n' "$c" >> "$f"
	done
}

# ---- the fault loop ----------------------------------------------------
descendants() {
	local p
	for p in $(pgrep -P "$1"); do
		echo "$p"
		descendants "$p"
	done
}
# qemu_of UNIQUE_ID: the QEMU processes under the job's batch step.
qemu_of() {
	local stepd p
	stepd=$(pgrep -f "^slurmstepd: \[$1\.batch\]")
	[ -n "$stepd" ] || return 0
	for p in $(descendants "$stepd"); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in
		qemu-system*) echo "$p" ;;
		esac
	done
}
job_state() { scontrol show job -o "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1; }
ended() {	# ended ID STATE: Slurm says the job ended so
	[ "$(job_state "$1")" = "JobState=$2" ]
}

declare -A seen
: > "$TMP/qemu.pids"
: > "$TMP/run-cell.pids"
: > "$TMP/faults"
# run_faults PID...: while those daemons run, give each RUNNING job of a
# cell its fault (fault_CELL ID), once per job, once its QEMU runs.
run_faults() {
	local alive=1 id uid name cell q p
	while [ "$alive" = 1 ]; do
		alive=0
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		while read -r id uid name; do
			[ -n "$id" ] && [ -z "${seen[$id]:-}" ] || continue
			cell=$(slurm_job_cell "$shared" "$id" "$name")
			[ -n "$cell" ] || continue
			q=$(qemu_of "$uid")
			[ -n "$q" ] || continue		# not booting yet
			seen[$id]=1
			echo "$q" >> "$TMP/qemu.pids"
			pgrep -f -- "run-cell --quiet --.* $shared/" >> "$TMP/run-cell.pids"
			echo "$cell $id" >> "$TMP/faults"
			"fault_$cell" "$id"
		done <<< "$(squeue -h -t RUNNING -o '%i %A %j' 2>/dev/null)"
		sleep 0.3
	done
}
n_overtime=0
fault_overtime() {
	n_overtime=$((n_overtime + 1))
	if [ "$n_overtime" = 1 ]; then
		scontrol update jobid="$1" TimeLimit=1
	else
		scancel "$1"	# its retries: no need to wait a minute again
	fi
}
fault_requeue() {
	scontrol update jobid="$1" Requeue=1 &&
		scontrol requeue "$1" ||
		echo "# scontrol requeue $1 failed" >&2
}
# Both tasks of the array run on the node, each on a CPU: down the node
# once both boot, so that both fail at once.
both_booting() {
	local n=0 id uid name
	while read -r id uid name; do
		[ -n "$id" ] && [ -n "$(qemu_of "$uid")" ] && n=$((n + 1))
	done <<< "$(squeue -h -t RUNNING -o '%i %A %j' 2>/dev/null)"
	[ "$n" -ge 2 ]
}
fault_nf1() {
	local id uid name
	wait_for 30 both_booting
	while read -r id uid name; do
		[ -n "$id" ] && [ "$id" != "$1" ] || continue
		seen[$id]=1
		echo "$(slurm_job_cell "$shared" "$id" "$name") $id" >> "$TMP/faults"
		qemu_of "$uid" >> "$TMP/qemu.pids"
	done <<< "$(squeue -h -t RUNNING -o '%i %A %j' 2>/dev/null)"
	slurm_node_down hvmatrix-test-node-down
	wait_for 30 ended "$1" NODE_FAIL
	slurm_node_up
}
fault_nf2() { fault_nf1 "$1"; }
fault_preempt() {
	sbatch -Q --partition=high --cpus-per-task="$cpus" --job-name=preemptor \
		--output=/dev/null --wrap='sleep 1' > /dev/null
	wait_for 30 ended "$1" PREEMPTED
}

# results STATE CELL: its runs' "verdict|reason" lines
results() {
	"$HVM" results --json --state "$1" --cell "$2" |
		jq -r '.[] | "\(.verdict)|\(.reason)"'
}
attempts() {	# attempts LOG CELL STATE: the daemon's ERROR lines of a cell
	grep -c "ERROR *$2 .*ended $3" "$1"
}
qemu_gone() {
	local p
	for p in $(cat "$TMP/qemu.pids"); do
		kill -0 "$p" 2>/dev/null && return 1
	done
	return 0
}

# ---- time limit and requeue, side by side -------------------------------
matrix "$TMP/overtime.yaml" overtime
matrix "$TMP/requeue.yaml" requeue
"$HVM" daemon --matrix "$TMP/overtime.yaml" --state "$TMP/s-overtime" \
	--until-idle > "$TMP/overtime.log" 2>&1 &
d1=$!
"$HVM" daemon --matrix "$TMP/requeue.yaml" --state "$TMP/s-requeue" \
	--until-idle > "$TMP/requeue.log" 2>&1 &
d2=$!
run_faults "$d1" "$d2"
wait "$d1"
wait "$d2"
r=$(results "$TMP/s-overtime" overtime)
expect_eq "a job past its time limit is recorded once, ERROR, never FAIL" \
	"$(echo "$r" | cut -d'|' -f1 | tr '\n' ' ')" "ERROR "
check "the time-limit job was ended TIMEOUT by Slurm, and said so" \
	test "$(attempts "$TMP/overtime.log" overtime TIMEOUT)" = 1
check "it was retried under the failure policy (3 jobs, $n_overtime given the fault)" \
	test "$(grep -c "^overtime " "$TMP/faults")" = 3
r=$(results "$TMP/s-requeue" requeue)
expect_eq "a requeued job is recorded once, ERROR, never FAIL" \
	"$(echo "$r" | cut -d'|' -f1 | tr '\n' ' ')" "ERROR "
check "with Slurm's reason ($(echo "$r" | cut -d'|' -f2))" \
	contains "$r" "Slurm requeued job"
check "each requeue was ERROR and retried (3 jobs requeued)" \
	test "$(grep -c "ERROR *requeue .*Slurm requeued job" "$TMP/requeue.log")" = 3
rq_ids=$(grep "^requeue " "$TMP/faults" | cut -d' ' -f2)
rq_states=$(for id in $rq_ids; do job_state "$id"; done | sort -u | tr '\n' ' ')
expect_eq "every requeued job was cancelled, never left to run again" \
	"$rq_states" "JobState=CANCELLED "
check "no requeued run was ingested (no result in its directory)" \
	test -z "$(for d in "$shared"/runs/*; do
		jq -e '.cell.name == "requeue"' "$d/spec.json" > /dev/null 2>&1 &&
			[ -f "$d/result.json" ] && echo "$d"; done)"

# ---- node down: two tasks of one array fail at once --------------------
matrix "$TMP/nodefail.yaml" nf1 nf2
"$HVM" daemon --matrix "$TMP/nodefail.yaml" --state "$TMP/s-nodefail" \
	--until-idle > "$TMP/nodefail.log" 2>&1 &
d1=$!
run_faults "$d1"
wait "$d1"
for c in nf1 nf2; do
	r=$(results "$TMP/s-nodefail" $c)
	expect_eq "$c: a job whose node went down is recorded once, ERROR, never FAIL" \
		"$(echo "$r" | cut -d'|' -f1 | tr '\n' ' ')" "ERROR "
	check "$c: with Slurm's reason ($(echo "$r" | cut -d'|' -f2))" \
		contains "$r" "NODE_FAIL"
	check "$c: each of its 3 jobs ended NODE_FAIL, retried under the failure policy" \
		test "$(attempts "$TMP/nodefail.log" $c NODE_FAIL)" = 3
done
check "the first round's two cells were two tasks of one array (JOB_TASK ids)" \
	test "$(grep -c '^nf[12] [0-9]*_[01]$' "$TMP/faults")" -ge 2
check "QEMU of every failed node's job is gone (Slurm killed the step)" \
	wait_for 20 qemu_gone

# ---- preemption ---------------------------------------------------------
matrix "$TMP/preempt.yaml" preempt
"$HVM" daemon --matrix "$TMP/preempt.yaml" --state "$TMP/s-preempt" \
	--until-idle > "$TMP/preempt.log" 2>&1 &
d1=$!
run_faults "$d1"
wait "$d1"
r=$(results "$TMP/s-preempt" preempt)
expect_eq "a preempted job is recorded once, ERROR, never FAIL" \
	"$(echo "$r" | cut -d'|' -f1 | tr '\n' ' ')" "ERROR "
check "with Slurm's reason ($(echo "$r" | cut -d'|' -f2))" \
	contains "$r" "PREEMPTED"
check "each of its 3 jobs was preempted, retried under the failure policy" \
	test "$(attempts "$TMP/preempt.log" preempt PREEMPTED)" = 3

# ---- nothing left -------------------------------------------------------
check "no QEMU of any job Slurm ended is left ($(wc -l < "$TMP/qemu.pids") checked by pid)" \
	wait_for 20 qemu_gone
check "no QEMU at all is left under the shared directory" \
	test -z "$(pgrep -f "qemu-system.*$shared/" 2>/dev/null)"
run_cell_gone() {
	local p
	for p in $(sort -u "$TMP/run-cell.pids"); do
		kill -0 "$p" 2>/dev/null && return 1
	done
	return 0
}
check "no hvmatrix run-cell of those jobs is left either ($(sort -u "$TMP/run-cell.pids" | wc -l) by pid)" \
	eval 'test -s "$TMP/run-cell.pids" && wait_for 20 run_cell_gone'
check "nothing of ours left in Slurm's queue" \
	test -z "$(squeue -h -t PENDING,RUNNING -o %j 2>/dev/null | grep '^hvm-')"

echo "# $(($(date +%s) - t_start)) s"
if [ "$t_failed" -gt 0 ]; then
	tail -n 30 "$TMP"/*.log | sed 's/^/# /'
	sed 's/^/# fault: /' "$TMP/faults"
fi
finish
