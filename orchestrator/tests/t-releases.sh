#!/usr/bin/env bash
# Integration: hypervisor releases side by side (images/hypervisors/
# fetch-releases.sh, fetched by tools/setup.sh). The catalogue lists every
# release and each starts here; each QEMU release boots its own SeaBIOS
# (its firmware with -L); matrix check rejects a machine type a release
# lacks; a kernel broken under one release only FAILs there and PASSes
# under every other: qemu-avx2-broken (an AVX2 path without fallback:
# QEMU 5.2's TCG has no AVX2) and xen-4.14-broken (assumes Xen 4.15+,
# which the version hypercall refutes under 4.14 only). A release not
# fetched is ERROR naming the fetcher, and so is a libxl cell whose
# release's dom0 image is not built (naming its builder).
. "$(dirname "$0")/lib.sh"
export HVMATRIX_XEN_DIR=${HVMATRIX_XEN_DIR:-$top_builddir/cache/xen}
# Where the test kernels are built (default: the build's cache, as
# t-interface.sh).
kcache=${HVMATRIX_TEST_KERNELS_CACHE:-$top_builddir/cache}
kernels=$(sh "$top_srcdir/images/kernels/build-test-kernels.sh" \
	"$kcache" 2> "$TMP/build.err") || {
	sed 's/^/# /' "$TMP/build.err"
	echo "not ok 1 - cannot build the test kernels"
	exit 99
}
avx2=$(echo "$kernels" | sed -n 5p)
xen414=$(echo "$kernels" | sed -n 6p)
matrix=$FIXTURES/matrix-releases.yaml
st() { "$@" > "$TMP/out" 2>&1 && echo 0 || echo $?; }

"$HVM" hypervisors --json > "$TMP/hv.json"
expect_eq "hypervisors lists QEMU 5.2, 7.2, 10.0, 11.1 and Xen 4.14, 4.17, 4.20" \
	"$(jq -r '[.[] | "\(.kind)-\(.version)"] | join(" ")' "$TMP/hv.json")" \
	"qemu-5.2 qemu-7.2 qemu-10.0 qemu-11.1 xen-4.14 xen-4.17 xen-4.20"
expect_eq "every release starts here" \
	"$(jq -r '[.[] | select(.starts | not) | "\(.version): \(.reason)"] | join("; ")' "$TMP/hv.json")" ""
expect_eq "each has its Debian package version and path" \
	"$(jq '[.[] | select((.package | length) > 0 and (.path | startswith("/")))] | length' "$TMP/hv.json")" 7

cat > "$TMP/bad.yaml" <<'YAML'
version: 1
cells:
  - name: old
    qemu: "11.1"
    machine: pc-i440fx-2.4
    cpu: qemu64
YAML
"$HVM" matrix check "$TMP/bad.yaml" > "$TMP/check.out" 2>&1 && rc=0 || rc=$?
expect_eq "matrix check rejects a machine type QEMU 11.1 lacks (exit 2)" "$rc" 2
check "... with file:line:col at the machine" \
	grep -q "bad.yaml:5:14: machine: QEMU 11.1 .* has no machine type \"pc-i440fx-2.4\"" "$TMP/check.out"
sed -i 's/"11.1"/"10.0"/' "$TMP/bad.yaml"
expect_eq "QEMU 10.0 still has it" "$(st "$HVM" matrix check "$TMP/bad.yaml")" 0

for k in avx2 xen414; do
	rc=0
	"$HVM" boot --kernel "$(eval echo \$$k)" --matrix "$matrix" --jobs 2 \
		--json > "$TMP/$k.json" 2> "$TMP/$k.progress" || rc=$?
	sed 's/^/# /' "$TMP/$k.progress"
	eval "rc_$k=$rc"
done
verdicts() { jq -r '[.[] | "\(.cell)=\(.verdict)"] | join(" ")' "$TMP/$1.json"; }
expect_eq "qemu-avx2-broken: exit 1" "$rc_avx2" 1
expect_eq "qemu-avx2-broken: FAIL under QEMU 5.2 only" "$(verdicts avx2)" \
	"qemu-5.2=FAIL qemu-7.2=PASS qemu-10.0=PASS qemu-11.1=PASS xen-4.14=PASS xen-4.17=PASS xen-4.20=PASS"
expect_eq "xen-4.14-broken: exit 1" "$rc_xen414" 1
expect_eq "xen-4.14-broken: FAIL under Xen 4.14 only" "$(verdicts xen414)" \
	"qemu-5.2=PASS qemu-7.2=PASS qemu-10.0=PASS qemu-11.1=PASS xen-4.14=FAIL xen-4.17=PASS xen-4.20=PASS"

# Each QEMU release ran its own SeaBIOS: the console's banner names the
# version of the seabios package its manifest recorded.
for v in 5.2 7.2 10.0 11.1; do
	log=$(jq -r ".[] | select(.cell == \"qemu-$v\") | .log" "$TMP/xen414.json")
	want=$(sed -n 's/^deb seabios \([^ ]*\) .*/\1/p' \
		"$top_builddir/cache/qemu/$v/manifest")
	banner=$(log_text "$log" | head -c 4096 | grep -a -o 'SeaBIOS (version [^)]*)' | head -1)
	# 1.14.0-2, or 1.16.2-debian-1.16.2-1 from bookworm on
	check "QEMU $v booted its own SeaBIOS ($want): $banner" \
		test "$banner" = "SeaBIOS (version $want)" -o \
		"$banner" = "SeaBIOS (version ${want%%-*}-debian-$want)"
done

cat > "$TMP/more.yaml" <<'YAML'
version: 1
cells:
  - name: unfetched
    qemu: "99.9"
  - name: libxl-4.20
    backend: xen-libxl
    xen: "4.20"
    cpu: max,-smap,-smep,-pku,-la57
YAML
# (t-libxl-releases.sh boots libxl cells of each release; here 4.20's
# dom0 image is made missing.)
HVMATRIX_DOM0_4_20=$TMP/none.cpio.gz \
	"$HVM" boot --kernel "$avx2" --matrix "$TMP/more.yaml" --json \
	> "$TMP/more.json" 2> /dev/null || true
field() { jq -r ".[] | select(.cell == \"$1\") | .$2" "$TMP/more.json"; }
expect_eq "a release not fetched is ERROR" "$(field unfetched verdict)" ERROR
check "... naming the command that fetches it" \
	contains "$(field unfetched reason)" "fetch-releases.sh"
expect_eq "a libxl cell whose release's dom0 is not built is ERROR" \
	"$(field libxl-4.20 verdict)" ERROR
check "... naming the command that builds it" \
	contains "$(field libxl-4.20 reason)" "build-dom0.sh --release 4.20"
expect_eq "no QEMU left behind" "$(leftovers)" ""
finish
