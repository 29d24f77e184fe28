# Shared by the shell integration tests: they run the real hvmatrix binary,
# real QEMU and a real kernel on a private state directory, and print one
# "ok N - ..." / "not ok N - ..." line per check.
set -u
# make distcheck (configure --disable-boot-tests) runs the suite on the
# release: there only the tests that neither boot nor build a kernel run,
# the others SKIP (tools/test.sh runs every test on the checkout).
if [ -n "${HVMATRIX_SKIP_BOOT_TESTS:-}" ]; then
	case ${0##*/} in
	t-cli.sh | t-hygiene.sh | t-build-kill.sh | t-man.sh | t-systemd.sh | \
	t-reload.sh | t-neighbour.sh) ;;
	*)	echo "# SKIP: ${0##*/} boots or builds kernels and" \
			"HVMATRIX_SKIP_BOOT_TESTS is set (make distcheck)"
		exit 77 ;;
	esac
fi
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
HVM=$top_builddir/hvmatrix
FIXTURES=$top_srcdir/orchestrator/tests/fixtures
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hvm-test.XXXXXX")
export HVMATRIX_STATE=$TMP/state
export HVMATRIX_CACHE=${HVMATRIX_CACHE:-$top_builddir/cache/probe}
# The daemons' compiler cache: the test kernels' own (build-test-kernels.sh
# compiles them in the daemon's layout), so a test's cold build of the demo
# tree compiles only what its commits change, and none reads the user's.
export HVMATRIX_CCACHE=${HVMATRIX_CCACHE:-$top_builddir/cache/ccache}
# A private copy of the payload: every QEMU a test starts then names $TMP
# on its command line, which is how leftovers() finds strays.
cp "${HVMATRIX_INITRD:-$top_builddir/images/payload.cpio.gz}" \
	"$TMP/payload.cpio.gz" || exit 99
export HVMATRIX_INITRD=$TMP/payload.cpio.gz
t_n=0 t_failed=0

cleanup() {
	# Nothing a test started may outlive it.
	pkill -KILL -f "$TMP/" 2>/dev/null
	rm -rf "$TMP"
	# What the suite's time is spent on (CI has a budget).
	echo "# ${0##*/}: ${SECONDS} s"
}
trap cleanup EXIT

ok() { t_n=$((t_n + 1)); echo "ok $t_n - $*"; }
not_ok() { t_n=$((t_n + 1)); t_failed=$((t_failed + 1)); echo "not ok $t_n - $*"; }
# check DESCRIPTION COMMAND...: the command's status is the check.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# expect_eq DESCRIPTION ACTUAL EXPECTED
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"
	else not_ok "$1"; echo "#   got:      $2"; echo "#   expected: $3"; fi
}
# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
	local limit=$(($1 * 10))
	shift
	while [ "$limit" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		limit=$((limit - 1))
	done
	return 1
}
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }
# log_text LOG: a console log's text, compressed (.zst, as hvmatrix leaves
# them) or plain, decoded by zstd's own tool.
log_text() { zstd -dcqf -- "$1"; }

need_kernel() {
	KERNEL=${HVMATRIX_TEST_KERNEL:-}
	if [ -z "$KERNEL" ] && [ -f "$top_builddir/cache/debian-kernel.path" ]; then
		KERNEL=$(cat "$top_builddir/cache/debian-kernel.path")
	fi
	if [ -z "$KERNEL" ] || [ ! -r "$KERNEL" ]; then
		# A hard error (99), never a silent pass: tools/setup.sh
		# fetches the kernel these tests need.
		echo "not ok 1 - no test kernel: set HVMATRIX_TEST_KERNEL or run tools/setup.sh"
		exit 99
	fi
}

# Processes whose command line mentions this test's private directory.
leftovers() { pgrep -f "$TMP/" 2>/dev/null | grep -v "^$$\$" || true; }

finish() {
	echo "# $((t_n - t_failed)) passed, $t_failed failed"
	[ "$t_n" -gt 0 ] && [ "$t_failed" -eq 0 ]
	exit $?
}

# tiny_tree DIR N [RECIPE]: a git repository of N commits whose Makefile
# "builds" a kernel by copying the prebuilt test kernel into place, for
# tests of the daemon's own machinery (queue, failure policy, store) that
# need real builds and boots but not a compiler's minutes. It answers the
# targets hvmatrix's build runs (tinyconfig, olddefconfig, bzImage, with
# O=). RECIPE, if given, runs first in bzImage's recipe (a shell line).
tiny_tree() {
	local dir=$1 n=$2 recipe=${3:-true} i
	need_kernel
	mkdir -p "$dir"
	git -C "$dir" init -q -b master
	cat > "$dir/Makefile" <<MK
tinyconfig olddefconfig:
	mkdir -p \$(O) && touch \$(O)/.config
bzImage:
	$recipe
	mkdir -p \$(O)/arch/x86/boot
	cp $KERNEL \$(O)/arch/x86/boot/bzImage
MK
	for i in $(seq 1 "$n"); do
		echo "$i" > "$dir/file"
		git -C "$dir" add -A
		git -C "$dir" -c user.name=t -c user.email=t@example.org \
			commit -q -m "commit $i"
	done
}

# test_kernels: the real test kernels (build-test-kernels.sh, cached by
# inputs) as $good, $vmware (broken under VMware only), $xenpv (broken as
# Xen PV only) and $coin (panics one boot in two); a hard error (99) when
# they cannot be built.
test_kernels() {
	local list
	list=$(sh "$top_srcdir/images/kernels/build-test-kernels.sh" \
		"$top_builddir/cache" 2> "$TMP/build.err") || {
		sed 's/^/# /' "$TMP/build.err"
		echo "not ok 1 - cannot build the test kernels"
		exit 99
	}
	good=$(echo "$list" | sed -n 1p)
	vmware=$(echo "$list" | sed -n 2p)
	xenpv=$(echo "$list" | sed -n 3p)
	coin=$(echo "$list" | sed -n 4p)
}

# tips_matrix TREE CELLS: a matrix that watches TREE with `test: tips`
# (each push's tip at once, the rest only as bisection wants it), one
# tinyconfig build, and CELLS (YAML list items) as its cells.
tips_matrix() {
	cat <<YAML
trees:
  - name: t
    path: $1
    test: tips
    first: 1
builds:
  - name: b
    base: tinyconfig
cells:
$2
YAML
}

# kernel_tree DIR: a git repository whose make "builds" the prebuilt
# kernel its commit names (kernel_commit), so that a test is about what
# the farm concludes, not about compiling. A commit made broken fails to
# build with a compiler's error line.
kernel_tree() {
	mkdir -p "$1"
	git -C "$1" init -q -b master
	cat > "$1/Makefile" <<'MK'
tinyconfig olddefconfig:
	mkdir -p $(O) && touch $(O)/.config
bzImage:
	@test ! -e $(CURDIR)/broken || { echo 'init/main.c:1:1: error: expected identifier'; exit 2; }
	mkdir -p $(O)/arch/x86/boot
	cp "$$(cat $(CURDIR)/kernel)" $(O)/arch/x86/boot/bzImage
MK
}

# kernel_commit DIR SUBJECT KERNEL [broken]: commit (every commit changes
# something, by A U Thor) and print its id.
kernel_commit() {
	echo "$3" > "$1/kernel"
	printf '%s\n' "$2" > "$1/subject"
	if [ "${4:-}" = broken ]; then touch "$1/broken"; else rm -f "$1/broken"; fi
	git -C "$1" add -A
	git -C "$1" -c user.name="A U Thor" -c user.email=author@example.org \
		commit -q -m "$2" > /dev/null
	git -C "$1" rev-parse HEAD
}
