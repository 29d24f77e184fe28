#!/usr/bin/env bash
# Boots saved by reuse: a series of style commits (docs and whitespace,
# issue 22's held-out style series) on top of one code commit, through
# the real daemon, real QEMU and the real good test kernel, with the
# tree's `reuse: true` (the default) and then `reuse: false`, each in a
# fresh store. The tree's make installs the prebuilt kernel (as the
# tests' trees do), so every commit's image is the same bytes: what a
# reproducible kernel build gives for such commits (build.c's make_env;
# docs/ARCHITECTURE.md has the real kernel's measurement). Prints the
# boots (runs that started a QEMU), the runs carried over and the
# seconds of each pass, and the boots saved.
# usage: bench/reuse.sh [N-STYLE-COMMITS [CELLS]]   (default: 8 3)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hvm=$top/hvmatrix
[ -x "$hvm" ] || { echo "bench: build first (bash tools/setup.sh)" >&2; exit 2; }
n=${1:-8}
n_cells=${2:-3}
good=$(sh "$top/images/kernels/build-test-kernels.sh" "$top/cache" | sed -n 1p)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HVMATRIX_CCACHE=$tmp/ccache
cp "${HVMATRIX_INITRD:-$top/images/payload.cpio.gz}" "$tmp/payload.cpio.gz"
export HVMATRIX_INITRD=$tmp/payload.cpio.gz
tree=$tmp/tree
mkdir -p "$tree/Documentation"
git -C "$tree" init -q -b master
printf '%s\n' 'tinyconfig olddefconfig:' \
	'	mkdir -p $(O) && touch $(O)/.config' 'bzImage:' \
	'	mkdir -p $(O)/arch/x86/boot' \
	"	cp $good \$(O)/arch/x86/boot/bzImage" > "$tree/Makefile"
commit() {
	git -C "$tree" add -A
	git -C "$tree" -c user.name=bench -c user.email=b@example.org \
		commit -q -m "$1"
}
printf 'int main(void)\n{\n\treturn 0;\n}\n' > "$tree/main.c"
echo "A guide." > "$tree/Documentation/guide.rst"
commit "code"
for i in $(seq 1 "$n"); do
	if [ $((i % 2)) = 1 ]; then
		echo "Line $i of the guide." >> "$tree/Documentation/guide.rst"
		commit "Documentation: line $i"
	else
		echo >> "$tree/main.c"	# one more blank line
		commit "main: whitespace $i"
	fi
done
run() {	# REUSE
	local state=$tmp/state-$1 t0 t1
	{
		printf '%s\n' trees: "  - name: t" "    path: $tree" \
			"    first: 0" "    reuse: $1" builds: "  - name: b" \
			"    base: tinyconfig" cells:
		for c in $(seq 1 "$n_cells"); do
			printf '%s\n' "  - name: plain$c" \
				"    expect: hypervisor=none"
		done
	} > "$tmp/m-$1.yaml"
	t0=$(date +%s.%N)
	"$hvm" daemon --matrix "$tmp/m-$1.yaml" --state "$state" --jobs 2 \
		--until-idle > "$tmp/daemon-$1.log" 2>&1 || true
	t1=$(date +%s.%N)
	boots=$(sqlite3 "$state/hvmatrix.db" \
		"SELECT count(*) FROM runs WHERE reused_from = 0")
	reused=$(sqlite3 "$state/hvmatrix.db" \
		"SELECT count(*) FROM runs WHERE reused_from != 0")
	secs=$(echo "$t1 - $t0" | bc)
	printf 'reuse: %-5s  boots %3d  carried over %3d  %6.1f s\n' \
		"$1" "$boots" "$reused" "$secs"
	eval "boots_$1=$boots"
}
echo "series: 1 code commit + $n style commits (docs, whitespace), $n_cells cells"
run true
run false
echo "boots saved by reuse: $((boots_false - boots_true)) of $boots_false"
