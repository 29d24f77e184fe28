#!/usr/bin/env bash
# make install gives an hvmatrix that never looks at its source tree: a
# release directory (make distdir) is configured with a private prefix,
# built, installed, then moved away, and the installed binary runs with
# the original checkout hidden too (a tmpfs over it, in a mount namespace of
# its own): it finds its default matrix under sysconfdir, the payload and
# the dashboard's template under pkgdatadir, and boots Debian's kernel in
# one cell to a PASS. make uninstall removes every file but an edited
# matrix (the admin's). make distcheck does its own install check: this
# one SKIPs there (lib.sh), as it builds hvmatrix once more and boots.
. "$(dirname "$0")/lib.sh"
need_kernel

src=$TMP/src build=$TMP/build prefix=$TMP/prefix
make -s -C "$top_builddir" distdir distdir="$src" > "$TMP/distdir.log" 2>&1
check "make distdir" test $? = 0
mkdir -p "$build"
cc=${CC:-gcc}
command -v ccache > /dev/null && cc="ccache $cc"
(cd "$build" && "$src/configure" -q --prefix="$prefix" CC="$cc" \
	--with-systemdsystemunitdir="$prefix/lib/systemd/system" \
	--with-sysusersdir="$prefix/lib/sysusers.d" &&
	nice make -s -j2 && make -s install) > "$TMP/build.log" 2>&1
rc=$?
check "configure --prefix, make, make install" test "$rc" = 0
[ "$rc" = 0 ] || { tail -20 "$TMP/build.log" | sed 's/^/# /'; finish; }
# Moved out of the way: the paths compiled in name nothing now.
mkdir "$TMP/away" && mv "$src" "$build" "$TMP/away/"

bin=$prefix/bin/hvmatrix
cp "$KERNEL" "$TMP/bzImage"
for f in bin/hvmatrix etc/hvmatrix/matrix.yaml \
	share/hvmatrix/images/payload.cpio.gz share/hvmatrix/web/style.css \
	share/hvmatrix/web/page.html.in share/hvmatrix/results/schema.sql \
	share/hvmatrix/images/xen/fetch-xen.sh share/man/man1/hvmatrix.1 \
	share/man/man5/hvmatrix-matrix.5 lib/systemd/system/hvmatrix.service; do
	check "installed: $f" test -s "$prefix/$f"
done

# What the installed binary does, with the checkout hidden.
unset HVMATRIX_INITRD HVMATRIX_MATRIX HVMATRIX_WEB
cat > "$TMP/installed.sh" <<SH
set -u
if [ "\${1:-}" = hide ]; then
	for d in "$top_srcdir" "$top_builddir"; do
		mount -t tmpfs hidden "\$d" || exit 99
	done
	[ -e "$top_srcdir/orchestrator" ] && exit 98
fi
cd "$TMP"
"$bin" --version
"$bin" matrix list > list.out 2>&1 || echo "matrix list: \$?"
"$bin" boot --kernel "$TMP/bzImage" --cell q35-7.2 --state "$TMP/st" \
	--dry-run > dry.out 2>&1 || echo "dry-run: \$?"
"$bin" boot --kernel "$TMP/bzImage" --cell q35-7.2 --state "$TMP/st" \
	--json -q > boot.json 2> boot.err || echo "boot: \$?"
"$bin" dashboard --state "$TMP/st" > dash.out 2>&1 || echo "dashboard: \$?"
SH
if unshare -m sh -c "mount -t tmpfs t '$TMP/away'" 2> /dev/null; then
	run=(unshare -m bash "$TMP/installed.sh" hide)
else
	echo "# no mount namespace here: the checkout is only absent from the paths"
	run=(bash "$TMP/installed.sh")
fi
out=$("${run[@]}" 2>&1)
run_rc=$?
echo "$out" | sed 's/^/# /'
check "the checkout could be hidden (a tmpfs over it)" \
	test "$run_rc" != 98 -a "$run_rc" != 99
expect_eq "hvmatrix --version" "$(echo "$out" | head -n 1)" \
	"hvmatrix $(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")"
check "matrix list reads the installed default matrix" \
	grep -q '^vmware-vmport' "$TMP/list.out"
expect_eq "  the cells of the source tree's default matrix" \
	"$(cat "$TMP/list.out")" \
	"$("$HVM" matrix list --matrix "$top_srcdir/matrices/default.yaml")"
check "the QEMU command line boots the installed payload" \
	grep -q -- "-initrd $prefix/share/hvmatrix/images/payload.cpio.gz" \
	"$TMP/dry.out"
expect_eq "the installed hvmatrix boots Debian's kernel in q35-7.2: PASS" \
	"$(jq -r '.[0].verdict' "$TMP/boot.json" 2>/dev/null)" PASS
check "the dashboard is written from the installed template" \
	test -s "$TMP/st/dashboard/index.html"
check "  with the installed CSS" \
	cmp -s "$TMP/st/dashboard/style.css" "$prefix/share/hvmatrix/web/style.css"

# uninstall: every file goes, but an edited matrix is the admin's.
mv "$TMP/away/src" "$src" && mv "$TMP/away/build" "$build"
echo "# edited" >> "$prefix/etc/hvmatrix/matrix.yaml"
make -s -C "$build" install > /dev/null 2>&1
check "make install again keeps the edited matrix" \
	grep -q '^# edited' "$prefix/etc/hvmatrix/matrix.yaml"
make -s -C "$build" uninstall > "$TMP/uninstall.log" 2>&1
check "make uninstall" test $? = 0
expect_eq "  removes every file but the edited matrix" \
	"$(cd "$prefix" && find . -type f | sort | tr '\n' ' ')" \
	"./etc/hvmatrix/matrix.yaml "
finish
