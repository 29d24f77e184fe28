#!/usr/bin/env bash
# Run the whole test suite: unit tests (Check) and integration tests that
# boot real kernels under real QEMU. Ends with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# Each phase's wall time, printed at the end: CI has a budget.
phases=
phase() { phases+="test: $1 took $(( SECONDS - ${t_phase:-0} )) s"$'\n'; t_phase=$SECONDS; }
# The test kernels (a few minutes cold, cached after) build while setup
# fetches, and before the boots start, so they do not compete with QEMU
# for the cores.
bash tools/setup.sh --test-kernels || { echo "0 passed, 1 failed"; exit 1; }
phase "setup and the test kernels"
HVMATRIX_TEST_KERNEL=$(cat cache/debian-kernel.path)
export HVMATRIX_TEST_KERNEL
# One KVM probe for the whole suite (a probe costs seconds on this host).
export HVMATRIX_CACHE="$top/cache/probe"
make -j2 check
rc=$?
phase "make check"
# The unit tests again under ASan+UBSan, in build-asan/ (tools/test-asan.sh);
# its logs are counted below with the others.
bash tools/test-asan.sh || rc=1
phase "the sanitizer pass"
shopt -s nullglob
logs=(orchestrator/tests/*.log fuzz/*.log build-asan/build/orchestrator/tests/*.log
	build-asan/build/fuzz/*.log)
shopt -u nullglob
for f in "${logs[@]}"; do
	case $f in */test-suite.log) continue ;; esac
	printf '=== %s\n' "$f"
	cat "$f"
done
# Count test cases: Check's summaries and the shell tests' ok/not ok lines.
awk '
	/^[0-9]+%: Checks: / {
		gsub(/,/, ""); c += $3; f += $5 + $7
	}
	/^ok [0-9]+ / { c++ }
	/^not ok [0-9]+ / { c++; f++ }
	END { printf "%d passed, %d failed\n", c - f, f }
' /dev/null "${logs[@]}" > cache/test-summary
if [ "$rc" -ne 0 ] && ! grep -q ' [1-9][0-9]* failed$' cache/test-summary; then
	# make check failed without a failing case (a crash, a build error).
	read -r p _ < cache/test-summary
	printf '%d passed, %d failed\n' "$p" 1 > cache/test-summary
fi
printf '%s' "$phases"
cat cache/test-summary
exit "$rc"
