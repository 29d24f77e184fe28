#!/usr/bin/env bash
# Bisection cost: a push of N commits whose culprit breaks the VMware
# interface, to a tree with `test: tips`, through the real daemon and real
# kernels (images/kernels/build-test-kernels.sh: good and vmware-broken;
# a tiny git tree whose make installs the kernel each commit names, so
# this measures the farm's decisions, not compiling). For each N prints
# the builds and boots the bisection spent against ceil(log2 N), and the
# seconds from the push to the named culprit.
# usage: bench/bisect.sh [N...]   (default: 4 8 16 32)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
hvm=$top/hvmatrix
[ -x "$hvm" ] || { echo "bench: build first (bash tools/setup.sh)" >&2; exit 2; }
kernels=$(sh "$top/images/kernels/build-test-kernels.sh" "$top/cache")
good=$(echo "$kernels" | sed -n 1p)
bad=$(echo "$kernels" | sed -n 2p)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HVMATRIX_CCACHE=$tmp/ccache
now() { date +%s.%N; }
for n in "${@:-4 8 16 32}"; do
	for n in $n; do
	tree=$tmp/tree-$n state=$tmp/state-$n
	mkdir -p "$tree"
	git -C "$tree" init -q -b master
	printf '%s\n' 'tinyconfig olddefconfig:' \
		'	mkdir -p $(O) && touch $(O)/.config' 'bzImage:' \
		'	mkdir -p $(O)/arch/x86/boot' \
		'	cp "$$(cat $(CURDIR)/kernel)" $(O)/arch/x86/boot/bzImage' \
		> "$tree/Makefile"
	commit() {
		echo "$2" > "$tree/kernel"
		echo "$1" > "$tree/subject"
		git -C "$tree" add -A
		git -C "$tree" -c user.name=bench -c user.email=b@example.org \
			commit -q -m "$1" > /dev/null
		git -C "$tree" rev-parse HEAD
	}
	cat > "$tmp/m-$n.yaml" <<YAML
trees:
  - {name: t, path: $tree, test: tips, first: 1}
builds:
  - {name: b, base: tinyconfig}
cells:
  - name: vmware
    machine: pc,vmport=on
    cpu: max,-hypervisor
    qemu_args: [-smbios, "type=1,serial=VMware-0"]
    expect: "Hypervisor detected: VMware"
    silence: 20
YAML
	commit base "$good" > /dev/null
	"$hvm" daemon --matrix "$tmp/m-$n.yaml" --state "$state" --until-idle \
		-q || true
	culprit_at=$(( (n * 2 + 2) / 3 ))
	for i in $(seq 1 "$n"); do
		if [ "$i" -lt "$culprit_at" ]; then k=$good; else k=$bad; fi
		c=$(commit "commit $i" "$k")
		[ "$i" -eq "$culprit_at" ] && culprit=$c
	done
	t0=$(now)
	"$hvm" daemon --matrix "$tmp/m-$n.yaml" --state "$state" --until-idle \
		-q || true
	t1=$(now)
	r=$("$hvm" regressions --state "$state" --matrix "$tmp/m-$n.yaml" --all --json)
	found=$(jq -r '.[0].first_bad.commit' <<< "$r")
	log2=$(awk -v n="$n" 'BEGIN { l = 0; while (2 ^ l < n) l++; print l }')
	printf 'bisect N=%d (culprit %d): %s, builds %s (ceil(log2 N) = %d), boots %s, push to culprit %.0f s\n' \
		"$n" "$culprit_at" "$([ "$found" = "$culprit" ] && echo exact || echo "WRONG ($found)")" \
		"$(jq -r '.[0].bisect.builds' <<< "$r")" "$log2" \
		"$(jq -r '.[0].bisect.boots' <<< "$r")" "$(echo "$t1 - $t0" | bc)"
	done
done
