# tools/slurm-node.sh: a private single-node Slurm cluster (munged,
# slurmctld, slurmd from Debian's slurmctld, slurmd, slurm-client, munge),
# for tests and benchmarks. Source it, then:
#
#   slurm_start DIR     config, state, logs, munge socket all under DIR;
#                       two free ports on 127.0.0.1; exports SLURM_CONF so
#                       every Slurm client (and hvmatrix) uses this cluster;
#                       waits until the node is idle. 0, or 1 with the logs
#                       on stderr.
#   slurm_stop_ctld / slurm_start_ctld   stop / start slurmctld only
#   slurm_stop          cancel what is queued, stop every daemon by pid
#   slurm_node_down / slurm_node_up   mark the node DOWN (slurmctld fails
#                       its jobs NODE_FAIL and slurmd kills them), and back
#
# Set slurm_conf_extra before slurm_start for more slurm.conf lines (a
# second partition, preemption); they go after the defaults.
#
# Nothing is written outside DIR (not /etc/slurm): SLURM_CONF points the
# tools at DIR/slurm.conf. Daemons run in the foreground (-D, -F) as
# children of the caller, so their pids are known and nothing is left.
# Must run as root (slurmd).

slurm_conf_extra=${slurm_conf_extra:-}
slurm_dir= slurm_munge_pid= slurm_ctld_pid= slurm_slurmd_pid=

_slurm_free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		[ "$p" != "${1:-}" ] || continue
		ss -ltnH "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
	done
}

# _slurm_stop_pid PID: TERM, then KILL after 10 s.
_slurm_stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

slurm_start_ctld() {
	slurmctld -D -f "$SLURM_CONF" >> "$slurm_dir/log/ctld.out" 2>&1 &
	slurm_ctld_pid=$!
}

slurm_stop_ctld() {
	_slurm_stop_pid "$slurm_ctld_pid"
	slurm_ctld_pid=
}

_slurm_node_idle() {
	[ "$(sinfo -h -N -n "$slurm_node" -o %T 2>/dev/null | sort -u)" = idle ]
}

slurm_start() {
	local dir=$1 ctld_port slurmd_port hw i
	slurm_dir=$dir
	slurm_node=$(hostname -s)
	mkdir -p "$dir/state" "$dir/spool" "$dir/log"
	chmod 755 "$dir"
	ctld_port=$(_slurm_free_port)
	slurmd_port=$(_slurm_free_port "$ctld_port")
	mungekey --create --keyfile="$dir/munge.key" 2>/dev/null ||
		dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
	chmod 600 "$dir/munge.key"
	hw=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
	export SLURM_CONF=$dir/slurm.conf
	cat > "$SLURM_CONF" <<EOF
ClusterName=hvmatrix
SlurmctldHost=$slurm_node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.sock
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
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
NodeName=$slurm_node NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
$slurm_conf_extra
EOF
	munged -F --key-file="$dir/munge.key" --socket="$dir/munge.sock" \
		--pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
		--seed-file="$dir/munged.seed" > "$dir/log/munged.out" 2>&1 &
	slurm_munge_pid=$!
	for i in $(seq 1 100); do
		[ -S "$dir/munge.sock" ] && break
		sleep 0.1
	done
	slurm_start_ctld
	slurmd -D -f "$SLURM_CONF" > "$dir/log/slurmd.out" 2>&1 &
	slurm_slurmd_pid=$!
	for i in $(seq 1 600); do
		_slurm_node_idle && return 0
		sleep 0.1
	done
	tail -n 20 "$dir"/log/* "$dir/munged.log" >&2 2>/dev/null
	return 1
}

slurm_node_down() {
	scontrol update nodename="$slurm_node" state=down \
		reason="${1:-hvmatrix-test}"
}

slurm_node_up() {
	local i
	scontrol update nodename="$slurm_node" state=resume 2>/dev/null
	for i in $(seq 1 300); do
		_slurm_node_idle && return 0
		sleep 0.1
	done
	return 1
}

slurm_stop() {
	local jobs
	if [ -n "$slurm_ctld_pid" ] && kill -0 "$slurm_ctld_pid" 2>/dev/null; then
		jobs=$(squeue -h -o %A 2>/dev/null)
		[ -z "$jobs" ] || scancel $jobs 2>/dev/null
	fi
	_slurm_stop_pid "$slurm_slurmd_pid"
	_slurm_stop_pid "$slurm_ctld_pid"
	_slurm_stop_pid "$slurm_munge_pid"
	slurm_slurmd_pid= slurm_ctld_pid= slurm_munge_pid=
}

# slurm_job_cell SHARED ID NAME: the hvmatrix cell a job (ID and NAME as
# squeue prints them) runs, from its spec in the shared directory; for a
# task of an array (hvm-a-*, ID JOB_TASK), from the array's task file.
slurm_job_cell() {
	local dir
	case $3 in
	hvm-a-*)
		dir=$(sed -n "$((${2#*_} + 1))p" "$1/arrays/$3/tasks" 2>/dev/null) ;;
	*)
		dir=$1/runs/$3 ;;
	esac
	[ -n "$dir" ] && jq -r '.cell.name' "$dir/spec.json" 2>/dev/null
}
