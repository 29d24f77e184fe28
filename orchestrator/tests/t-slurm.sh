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
#  - the three cells of each build ask for the same resources: they go as
#    one job array, tracked and cancelled per task;
#  - a third cell hangs (its init sleeps); the test scancels every job of
#    it (first its array task, then its retries, jobs of their own): each
#    is recorded ERROR with Slurm's state, never FAIL;
#  - slurmctld is stopped while the first jobs run and started again a few
#    seconds later: the run completes, submission pauses and resumes, and
#    every cell is recorded exactly once.
# Builds on Slurm (builds: true): a good commit, a commit that does not
# compile and one whose build hangs, each built by `hvmatrix run-build`
# in a Slurm job: the same verdicts as local builds (PASS; BLOCKED, the
# build FAILED), and the hanging build, scancelled at each of the failure
# policy's 3 attempts, is ERROR with Slurm's reason, never FAIL or BLOCKED.
# Then a daemon stopped (SIGTERM) while its job runs cancels it, and a job
# sbatch refuses (no such partition) is ERROR with sbatch's reason, and a
# job that never starts (its node drained) is cancelled and is ERROR.
. "$(dirname "$0")/lib.sh"
t_start=$(date +%s)

for t in munged mungekey slurmctld slurmd sbatch squeue scancel sinfo ss; do
	command -v "$t" > /dev/null || {
		echo "not ok 1 - $t is missing (tools/setup.sh installs slurm)"
		exit 99
	}
done
[ "$(id -u)" = 0 ] || { echo "ok 1 # SKIP slurmd must run as root"; exit 0; }
test_kernels

# ---- a private Slurm cluster ------------------------------------------
. "$top_srcdir/tools/slurm-node.sh"
trap 'slurm_stop; cleanup' EXIT
chmod 755 "$TMP"
if ! slurm_start "$TMP/slurm" 2> "$TMP/slurm-start.err"; then
	sed 's/^/# /' "$TMP/slurm-start.err"
	echo "not ok 1 - the Slurm node never became idle"
	exit 99
fi
ok "a single-node Slurm runs on 127.0.0.1 ($SLURM_CONF)"

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
    silence: 100
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
		if [ "$(slurm_job_cell "$TMP/shared" "$id" "$name")" = hang ]; then
			scancel "$id" && cancelled=$((cancelled + 1))
		elif [ "$restarted" = 0 ]; then
			restarted=1
			slurm_stop_ctld
			sleep 10
			slurm_start_ctld
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
run_id=$("$HVM" results --json --state "$TMP/s-slurm" --cell plain |
	jq -r '[.[] | select(.verdict == "PASS")][0].id')
check "a node's console log is in the daemon's store (results --log $run_id)" \
	sh -c "'$HVM' results --state '$TMP/s-slurm' --log '$run_id' | grep -q '^HVMATRIX-OK nonce='"
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
tasks=$(cat "$TMP"/shared/arrays/hvm-a-*/tasks 2>/dev/null | wc -l)
expect_eq "each build's three cells went as one job array (tasks)" \
	"$(ls -d "$TMP"/shared/arrays/hvm-a-* 2>/dev/null | wc -l)/$tasks" 2/6
check "every array task's run directory got its result or was cancelled" \
	test "$(cat "$TMP"/shared/arrays/hvm-a-*/tasks 2>/dev/null |
		while read -r d; do [ -f "$d/result.json" ] && echo r; done |
		wc -l)" = 4
check "the hang cell's array task was cancelled alone (JOB_TASK), its build's other tasks ran on" \
	grep -q 'ERROR *hang .*Slurm job [0-9]*_[0-9]* ended CANCELLED' "$TMP/slurm.log"
check "nothing left in Slurm's queue" \
	test -z "$(squeue -h -t PENDING,RUNNING 2>/dev/null)"

# ---- builds on Slurm -----------------------------------------------------
kernel_tree "$TMP/bgood"
kernel_commit "$TMP/bgood" "good" "$good" > /dev/null
kernel_tree "$TMP/bbad"
kernel_commit "$TMP/bbad" "does not compile" "$good" broken > /dev/null
kernel_tree "$TMP/bslow"
sed -i 's|^bzImage:$|bzImage:\n\t@test ! -e $(CURDIR)/slow \|\| sleep 300|' "$TMP/bslow/Makefile"
touch "$TMP/bslow/slow"
kernel_commit "$TMP/bslow" "hangs" "$good" > /dev/null
btrees() {	# btrees NAME...
	local t
	echo "trees:"
	for t in "$@"; do
		printf '  - name: %s\n    path: %s\n' "$t" "$TMP/$t"
	done
	printf 'builds:\n  - name: b\n    base: tinyconfig\n'
}
bcell="cells:
  - name: plain
    expect: hypervisor=none
    silence: 20"
printf '%s\n%s\n' "$(btrees bgood bbad)" "$bcell" > "$TMP/blocal.yaml"
printf '%s\nexecutor:\n  kind: slurm\n  builds: true\n  shared_dir: %s\n%s\n' \
	"$(btrees bgood bbad bslow)" "$TMP/shared" "$bcell" > "$TMP/bslurm.yaml"
bverdicts() {	# bverdicts STATE: "tree/cell=VERDICT" of bgood and bbad
	"$HVM" results --json --state "$1" |
		jq -r '.[] | select(.tree != "bslow") | "\(.tree)/\(.cell)=\(.verdict)"' | sort
}
"$HVM" daemon --matrix "$TMP/blocal.yaml" --state "$TMP/s-blocal" --jobs 2 \
	--until-idle > "$TMP/blocal.log" 2>&1
HVMATRIX_RETRY_BASE_S=1 "$HVM" daemon --matrix "$TMP/bslurm.yaml" \
	--state "$TMP/s-bslurm" --jobs 2 --until-idle > "$TMP/bslurm.log" 2>&1 &
daemon_pid=$!
declare -A bseen
bcancelled=0
while kill -0 "$daemon_pid" 2>/dev/null; do
	while read -r id name; do
		[ -n "$id" ] && [ -z "${bseen[$id]:-}" ] || continue
		spec=$TMP/shared/builds/runs/$name/spec.json
		if jq -e '.tree == "bslow"' "$spec" > /dev/null 2>&1; then
			bseen[$id]=1
			sleep 1		# make is running on the node
			scancel "$id" && bcancelled=$((bcancelled + 1))
		fi
	done <<< "$(squeue -h -t RUNNING -o '%i %j' 2>/dev/null | grep ' hvm-b-')"
	sleep 0.2
done
wait "$daemon_pid"
expect_eq "builds on Slurm: the same verdicts as local builds (a compile error BLOCKED)" \
	"$(bverdicts "$TMP/s-bslurm" | tr '\n' ' ')" \
	"$(bverdicts "$TMP/s-blocal" | tr '\n' ' ')"
expect_eq "local builds: the good commit PASSes, the broken one is BLOCKED" \
	"$(bverdicts "$TMP/s-blocal" | tr '\n' ' ')" \
	"bbad/plain=BLOCKED bgood/plain=PASS "
check "the builds ran on the node (run-build results: OK and FAILED in the shared directory)" \
	test "$(jq -r .status "$TMP"/shared/builds/runs/hvm-b-*/result.json 2>/dev/null |
		sort -u | tr '\n' ' ')" = "FAILED OK "
slow=$("$HVM" results --json --state "$TMP/s-bslurm" --tree bslow)
expect_eq "a build job Slurm cancelled is ERROR for its cells, never FAIL or BLOCKED" \
	"$(echo "$slow" | jq -r '[.[] | .verdict] | unique | join(" ")')" ERROR
check "with Slurm's reason ($(echo "$slow" | jq -r '.[0].reason'))" \
	contains "$(echo "$slow" | jq -r '.[0].reason')" "CANCELLED"
expect_eq "each of the failure policy's 3 build attempts was a Slurm job, cancelled" \
	"$bcancelled" 3

# A daemon stopped while its build job runs cancels it; nothing is recorded.
printf '%s\nexecutor:\n  kind: slurm\n  builds: true\n  shared_dir: %s\n%s\n' \
	"$(btrees bslow)" "$TMP/shared" "$bcell" > "$TMP/bstop.yaml"
"$HVM" daemon --matrix "$TMP/bstop.yaml" --state "$TMP/s-bstop" --jobs 2 \
	> "$TMP/bstop.log" 2>&1 &
daemon_pid=$!
build_running() { squeue -h -t RUNNING -o %j 2>/dev/null | grep -q '^hvm-b-'; }
if wait_for 60 build_running; then
	job=$(squeue -h -t RUNNING -o '%i %j' | grep ' hvm-b-' | cut -d' ' -f1)
	kill -TERM "$daemon_pid"
	wait_for 30 sh -c "! kill -0 $daemon_pid 2>/dev/null"
	wait "$daemon_pid" 2>/dev/null
	wait_for 30 sh -c "! scontrol show job -o $job | grep -q JobState=COMPLETING"
	expect_eq "daemon shutdown cancels its running build job ($job)" \
		"$(scontrol show job -o "$job" | grep -o 'JobState=[A-Z]*')" \
		JobState=CANCELLED
	expect_eq "a stopped build records nothing" \
		"$("$HVM" results --json --state "$TMP/s-bstop" | jq length)" 0
else
	kill -TERM "$daemon_pid"
	wait "$daemon_pid"
	not_ok "a build job never ran"
fi

# ---- the daemon stopped mid-run: its jobs are cancelled, nothing FAILs --
cat > "$TMP/hang.yaml" <<YAML
$head
executor:
  kind: slurm
  shared_dir: $TMP/shared
cells:
  - name: hang
    cmdline: "rdinit=/bin/busybox sleep 600"
    silence: 200
    timeout: 240
YAML
"$HVM" daemon --matrix "$TMP/hang.yaml" --state "$TMP/s-stop" --jobs 2 \
	> "$TMP/stop.log" 2>&1 &
daemon_pid=$!
hang_running() { [ -n "$(squeue -h -t RUNNING -o %i 2>/dev/null)" ]; }
if wait_for 60 hang_running; then
	job=$(squeue -h -t RUNNING -o %i | head -n 1)
	kill -TERM "$daemon_pid"
	wait "$daemon_pid"
	job_state() { scontrol show job -o "$job" | grep -o 'JobState=[A-Z]*'; }
	# COMPLETING while slurmd kills its processes (KillWait).
	wait_for 30 sh -c "! scontrol show job -o $job | grep -q JobState=COMPLETING"
	expect_eq "daemon shutdown cancels its running Slurm job ($job)" \
		"$(job_state)" JobState=CANCELLED
	expect_eq "a stopped run is queued again, not recorded" \
		"$("$HVM" results --json --state "$TMP/s-stop" | jq length)" 0
else
	kill -TERM "$daemon_pid"
	wait "$daemon_pid"
	not_ok "a hang job never ran"
fi

# ---- a job Slurm refuses is ERROR with sbatch's reason ----------------
sed 's/^  kind: slurm$/  kind: slurm\n  partition: nosuch/' "$TMP/hang.yaml" > "$TMP/refused.yaml"
"$HVM" daemon --matrix "$TMP/refused.yaml" --state "$TMP/s-refused" \
	--jobs 2 --until-idle > "$TMP/refused.log" 2>&1
refused=$("$HVM" results --json --state "$TMP/s-refused")
expect_eq "a job sbatch refuses is ERROR, never FAIL" \
	"$(echo "$refused" | jq -r '[.[] | .verdict] | unique | join(" ")')" ERROR
check "with sbatch's reason ($(echo "$refused" | jq -r '.[0].reason'))" \
	contains "$(echo "$refused" | jq -r '.[0].reason')" "artition"

# ---- a job that never starts (the node drained) is ERROR ---------------
printf '%s\nexecutor:\n  kind: slurm\n  shared_dir: %s\n  pending_timeout: 2\ncells:\n  - name: plain\n' \
	"$head" "$TMP/shared" > "$TMP/pending.yaml"
scontrol update nodename="$slurm_node" state=drain reason=hvmatrix-test
"$HVM" daemon --matrix "$TMP/pending.yaml" --state "$TMP/s-pending" \
	--jobs 2 --until-idle > "$TMP/pending.log" 2>&1
scontrol update nodename="$slurm_node" state=resume
pending=$("$HVM" results --json --state "$TMP/s-pending")
expect_eq "a job that never starts is ERROR, never FAIL" \
	"$(echo "$pending" | jq -r '[.[] | .verdict] | unique | join(" ")')" ERROR
check "with Slurm's reason ($(echo "$pending" | jq -r '.[0].reason'))" \
	contains "$(echo "$pending" | jq -r '.[0].reason')" "never started"
check "and it was cancelled, not left queued" \
	test -z "$(squeue -h -t PENDING 2>/dev/null)"

echo "# $(($(date +%s) - t_start)) s"
if [ "$t_failed" -gt 0 ]; then
	tail -n 40 "$TMP/slurm.log" "$TMP/stop.log" "$TMP/refused.log" \
		"$TMP/pending.log" |
		sed 's/^/# /' 
fi
finish
