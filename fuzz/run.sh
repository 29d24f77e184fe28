#!/bin/sh
# Build the libFuzzer targets with clang (-fsanitize=fuzzer,address,
# undefined) in their own directory, then run each for a bounded time.
# `make fuzz` runs this; the targets and the rules they check are in
# fuzz/fuzz-*.c, their seed corpus (the tests' fixtures, and every input
# that once made a target fail) in fuzz/corpus/TARGET/, replayed by
# `make check`.
#
# usage: fuzz/run.sh SRCDIR BUILDDIR [TARGET...]
#   FUZZ_SECONDS  seconds per target (default 60)
#   FUZZ_BUILD    only build (1)
#   FUZZ_OUT      where to build and run (default BUILDDIR/fuzz-build)
# A finding is left as BUILDDIR/fuzz-build/TARGET/crash-* (or leak-*,
# timeout-*); the exit status is 1 when any target found something.
set -eu
src=$(cd "$1" && pwd)
top=$(cd "$2" && pwd)
shift 2
out=${FUZZ_OUT:-$top/fuzz-build}
seconds=${FUZZ_SECONDS:-60}
targets=${*:-matrix matrix-edit judge escape}
CC_FUZZ=${CC_FUZZ:-clang}
o=$src/orchestrator

command -v "$CC_FUZZ" > /dev/null || {
	echo "fuzz: $CC_FUZZ not found (Debian: apt-get install clang)" >&2
	exit 2
}

# What each target links: the module under test and what it needs.
sources() {
	case $1 in
	matrix | matrix-edit)
		echo "matrix.c matrix-yaml.c matrix-sections.c matrix-options.c" \
			"matrix-edit.c" \
			"cell.c cell-format.c hypervisors.c spawn.c" \
			"timeutil.c fsutil.c paths.c strbuf.c xmalloc.c" ;;
	judge) echo "judge.c verdict.c strbuf.c xmalloc.c" ;;
	escape) echo "strbuf.c xmalloc.c" ;;
	*) echo "fuzz: unknown target $1" >&2; exit 2 ;;
	esac
}

cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
	-fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE
	-I$top -I$o -I$src/fuzz
	-DHVM_DATADIR=\"$src\" -DHVM_BUILDDIR=\"$top\"
	-DHVM_PKGDATADIR=\"/nonexistent\" -DHVM_SYSCONFDIR=\"/nonexistent\"
	-DHVM_LOCALSTATEDIR=\"/nonexistent\" $(pkg-config --cflags yaml-0.1)"
libs=$(pkg-config --libs yaml-0.1)

for t in $targets; do
	mkdir -p "$out/$t"
	srcs=
	for f in $(sources "$t"); do srcs="$srcs $o/$f"; done
	# shellcheck disable=SC2086
	$CC_FUZZ $cflags -o "$out/fuzz-$t" "$src/fuzz/fuzz-$t.c" $srcs $libs
done
echo "fuzz: built $(echo "$targets" | wc -w) targets in $out" >&2
[ "${FUZZ_BUILD:-}" = 1 ] && exit 0

found=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
for t in $targets; do
	# New inputs go to a working corpus under the build directory; the
	# seeds in the source tree are only read.
	mkdir -p "$out/$t/corpus"
	echo "fuzz: $t for $seconds s" >&2
	if ! (cd "$out/$t" && "$out/fuzz-$t" -max_total_time="$seconds" \
		-max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 corpus "$src/fuzz/corpus/$t" \
		> "$out/$t/fuzz.log" 2>&1); then
		found=1
		echo "fuzz: $t FOUND something: $out/$t/fuzz.log" >&2
		grep -E '^(==|SUMMARY|artifact_prefix|Test unit written)' \
			"$out/$t/fuzz.log" | head -20 >&2 || true
	fi
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' \
		"$out/$t/fuzz.log" | sed "s/^/fuzz: $t /" >&2 || true
	echo "fuzz: $t: $(ls "$out/$t/corpus" | wc -l) inputs in its corpus" >&2
done
exit "$found"
