#!/usr/bin/env bash
# The unit tests (Check) and the fuzz corpus replays once more, built with
# AddressSanitizer and UndefinedBehaviorSanitizer, in a build directory
# of their own (build-asan/, out of the source tree: a release directory
# made by `make distdir` is configured there, since the checkout itself
# is configured in place). Any sanitizer report fails: every report
# halts the program, and Check counts a test whose child died. The
# booting shell tests are not run here.
#
# usage: tools/test-asan.sh   (after configure and make in the checkout;
#        tools/test.sh runs it). Logs: build-asan/build/**/*.log.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build-asan
src=$out/src
build=$out/build
say() { printf 'test-asan: %s\n' "$*" >&2; }

# A fresh copy of the sources; the build directory stays, so make only
# rebuilds what changed (distdir keeps the files' times).
rm -rf "$src"
mkdir -p "$out"
make -s distdir distdir="$src" > /dev/null || { say "make distdir failed"; exit 1; }
san='-fsanitize=address,undefined -fno-sanitize-recover=all'
cc=${CC:-gcc}
command -v ccache > /dev/null && cc="ccache $cc"
mkdir -p "$build"
# Only this run's logs may count (tools/test.sh reads them).
rm -f "$build"/orchestrator/tests/*.log "$build"/fuzz/*.log
if [ ! -f "$build/Makefile" ] || [ "$src/configure" -nt "$build/Makefile" ]; then
	say "configure ($build)"
	(cd "$build" && "$src/configure" -q CC="$cc" \
		CFLAGS="$san -fno-omit-frame-pointer -g -O1" \
		LDFLAGS="$san" --without-systemdsystemunitdir \
		--without-sysusersdir) || { say "configure failed"; exit 1; }
fi
say "make"
nice make -s -C "$build" -j2 > "$out/make.log" 2>&1 || {
	tail -30 "$out/make.log" >&2
	say "make failed"
	exit 1
}
export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$top/tools/lsan.supp:print_suppressions=0
say "make check (unit tests and fuzz replays only)"
# CHECK_TESTS (orchestrator/tests/Makefile.inc): the Check suites and the fuzz
# replays, not SH_TESTS and not the shell tests' helper, test-tool.
nice make -s -C "$build" -j2 check TESTS='$(CHECK_TESTS)' \
	> "$out/check.log" 2>&1
rc=$?
grep -E '^(PASS|FAIL|ERROR|SKIP|# (TOTAL|PASS|FAIL|ERROR)):' "$out/check.log" >&2
# A report that Check survived (in a test's own process) still fails.
if grep -l -E '^(==[0-9]+==ERROR: |SUMMARY: (Address|Undefined|Leak)Sanitizer|.*runtime error: )' \
	"$build"/orchestrator/tests/*.log "$build"/fuzz/*.log 2>/dev/null; then
	say "sanitizer reports in the logs above"
	rc=1
fi
exit "$rc"
