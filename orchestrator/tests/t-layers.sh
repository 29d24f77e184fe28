#!/usr/bin/env bash
# The house rules of orchestrator/, checked from the code itself: the
# folders use one another only as orchestrator/LAYERS allows (their
# #include lines in the sources, their calls in the built objects), no
# two files call each other round in a circle, no file is over 800 lines,
# and every exported function carries its file's name as its prefix.
# Needs the build (make check builds the objects before the tests).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
src=$top_srcdir/orchestrator
obj=$top_builddir/orchestrator
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hvm-layers.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
t_n=0 t_failed=0
ok() { t_n=$((t_n + 1)); echo "ok $t_n - $*"; }
not_ok() { t_n=$((t_n + 1)); t_failed=$((t_failed + 1)); echo "not ok $t_n - $*"; }
# verdict DESCRIPTION FILE: ok when FILE is empty, else its lines shown.
verdict() {
	if [ -s "$2" ]; then
		not_ok "$1"
		sed 's/^/#   /' "$2" | head -40
	else
		ok "$1"
	fi
}

# The rules: "FOLDER: USED..." lines.
grep -v '^#' "$src/LAYERS" | grep . > "$TMP/rules"
folders=$(cut -d: -f1 "$TMP/rules")
allowed() {	# FROM TO
	[ "$1" = "$2" ] && return 0
	awk -F': *' -v f="$1" -v t="$2" '$1 == f {
		n = split($2, a, " "); for (i = 1; i <= n; i++) if (a[i] == t) found = 1
	} END { exit !found }' "$TMP/rules"
}
# The rules themselves run one way: each folder uses only those above it
# in the file.
awk -F': *' '{ seen[$1] = 1; n = split($2, a, " ")
	for (i = 1; i <= n; i++) if (!(a[i] in seen)) print $1 " uses " a[i] ", listed after it" }' \
	"$TMP/rules" > "$TMP/order"
verdict "orchestrator/LAYERS: every folder uses only folders listed before it" "$TMP/order"

# Every C file of the stages is in a folder the rules name.
: > "$TMP/stray"
for f in "$src"/*.c "$src"/*.h "$src"/*/*.c "$src"/*/*.h; do
	[ -e "$f" ] || continue
	d=${f#"$src"/}
	case $d in tests/* | agent/*) continue ;; esac
	case $d in */*) ;; *) echo "$d: not in a stage folder" >> "$TMP/stray"; continue ;; esac
	echo "$folders" | grep -qx "${d%%/*}" || echo "$d: folder ${d%%/*} is not in LAYERS" >> "$TMP/stray"
done
verdict "every source file sits in a folder that LAYERS names" "$TMP/stray"

# 1. Includes: "FOLDER/file.h" only of an allowed folder; no bare names.
: > "$TMP/inc"
for d in $folders; do
	for f in "$src/$d"/*.[ch]; do
		[ -e "$f" ] || continue
		grep -n '^#include "' "$f" | while IFS= read -r line; do
			h=${line#*\"}; h=${h%%\"*}
			case $h in
			*/*)	to=${h%%/*}
				[ -f "$src/$h" ] || [ -f "$obj/$h" ] ||
					echo "${f#"$src"/}:${line%%:*}: $h does not exist"
				allowed "$d" "$to" ||
					echo "${f#"$src"/}:${line%%:*}: $d may not include $h" ;;
			config.h) ;;	# configure's, in the build's top
			*)	echo "${f#"$src"/}:${line%%:*}: \"$h\" names no folder" ;;
			esac
		done
	done
done >> "$TMP/inc"
verdict "includes: each folder includes only what LAYERS allows" "$TMP/inc"

# 2. Calls, from the built objects: which file defines each global symbol
# and which files use it. "FROM TO SYMBOL" per cross-file use.
# The objects of today's sources only (a build tree keeps those of files
# since removed).
objs=
for d in $folders; do
	for f in "$src/$d"/*.c; do
		[ -e "$f" ] || continue
		n=${f##*/}; n=${n%.c}
		for o in "$obj/$d/libhvmatrix_la-$n.o" "$obj/$d/hvmatrix-$n.o"; do
			[ -f "$o" ] && objs="$objs $o"
		done
	done
done
if [ -z "$objs" ]; then
	not_ok "calls: no built objects under $obj (build first)"
	echo "# $((t_n - t_failed)) passed, $t_failed failed"
	exit 1
fi
for o in $objs; do
	d=${o%/*}; d=${d##*/}
	f=${o##*/}; f=${f%.o}; f=${f#libhvmatrix_la-}; f=${f#hvmatrix-}
	nm --defined-only -g "$o" | awk -v n="$d/$f" '$2 ~ /^[TDBRC]$/ { print "D", $3, n }'
	nm -u "$o" | awk -v n="$d/$f" '{ print "U", $2, n }'
done | awk '$1 == "D" { def[$2] = $3; next } { use[++n] = $2 " " $3 }
	END { for (i = 1; i <= n; i++) { split(use[i], a, " ")
		if ((a[1] in def) && def[a[1]] != a[2]) print a[2], def[a[1]], a[1] } }' |
	sort -u > "$TMP/calls"
while read -r from to sym; do
	allowed "${from%%/*}" "${to%%/*}" || echo "$from uses $sym of $to"
done < "$TMP/calls" > "$TMP/badcalls"
verdict "calls: each folder calls only what LAYERS allows ($(wc -l < "$TMP/calls") cross-file uses read)" "$TMP/badcalls"

# 3. No circle of files, by calls or by includes of each other's headers.
cut -d' ' -f1,2 "$TMP/calls" | sort -u > "$TMP/edges"
tsort "$TMP/edges" 2>&1 > /dev/null | grep -v 'input contains a loop' |
	sed 's/^tsort: //' | sort -u > "$TMP/loops"
verdict "no circle of files calling one another" "$TMP/loops"

# 4. No file over 800 lines (tests and the agent, a program of its own
# built against Debian's libraries, aside).
for d in $folders; do
	wc -l "$src/$d"/*.[ch] 2>/dev/null | awk '$2 != "total" && $1 > 800 { print $2 ": " $1 " lines" }'
done | sed "s|$src/||" > "$TMP/long"
verdict "no file over 800 lines" "$TMP/long"

# 5. Exported functions carry their file's name: cell-format.c exports
# cell_format_*. lib/xmalloc.c's x*() and die() follow git's names for
# the allocation family that every file uses; main() is main.
for o in $objs; do
	f=${o##*/}; f=${f%.o}; f=${f#libhvmatrix_la-}; f=${f#hvmatrix-}
	p=$(echo "$f" | tr - _)
	nm --defined-only -g "$o" | awk -v p="$p" -v f="$f" '$2 == "T" {
		s = $3
		if (s == p || index(s, p "_") == 1) next
		if (f == "xmalloc" && (s ~ /^x[a-z]+$/ || s == "die")) next
		if (f == "hvmatrix" && s == "main") next
		print f ".c exports " s
	}'
done > "$TMP/prefix"
verdict "every exported function is prefixed by its file's name" "$TMP/prefix"

echo "# $((t_n - t_failed)) passed, $t_failed failed"
[ "$t_failed" -eq 0 ]
