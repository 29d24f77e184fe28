#!/usr/bin/env bash
# The manual against the program: hvmatrix(1) has a section for every
# command of `hvmatrix --help` and every subcommand of `hvmatrix matrix
# --help`, and each section lists exactly the options that command's
# --help lists; hvmatrix-matrix(5) documents every key the loader knows
# (the key tables of cell.c, matrix-sections.c, matrix-options.c and
# matrix-yaml.c). The built roff pages render with man(1).
. "$(dirname "$0")/lib.sh"

scd1=$top_srcdir/man/hvmatrix.1.scd
scd5=$top_srcdir/man/hvmatrix-matrix.5.scd
man1=$top_builddir/man/hvmatrix.1
[ -f "$man1" ] || man1=$top_srcdir/man/hvmatrix.1
man5=$top_builddir/man/hvmatrix-matrix.5
[ -f "$man5" ] || man5=$top_srcdir/man/hvmatrix-matrix.5

# Long options of a --help text: the first --word of each option line.
help_opts() {
	sed -n 's/^ \{1,\}\(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p' |
		sort -u | tr '\n' ' '
}
# Long options of the man page section "## hvmatrix WORDS ...": every
# --word on its option lines (lines starting with *-).
man_opts() {
	awk -v want="## hvmatrix $1 " '
		index($0 " ", want) == 1 { on = 1; next }
		/^#/ { on = 0 }
		on && /^\*-/ { print }
	' "$scd1" | grep -o -- '--[a-z][a-z-]*' | sort -u | tr '\n' ' '
}

commands=$("$HVM" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]\{1,\}\) .*/\1/p')
expect_eq "hvmatrix --help lists the 15 commands" \
	"$(echo $commands | wc -w)" 15
for c in $commands; do
	check "hvmatrix(1) has a section for '$c'" \
		grep -q "^## hvmatrix $c\( \|$\)" "$scd1"
done
subs=$("$HVM" matrix --help | sed -n '/^subcommands:/,/^$/s/^  \([a-z]\{1,\}\) .*/\1/p')
expect_eq "hvmatrix matrix --help lists 5 subcommands" \
	"$(echo $subs | wc -w)" 5
for c in $commands; do
	[ "$c" = matrix ] && continue
	# export's options are its format's: `export kcidb --help`.
	sub=; [ "$c" = export ] && sub=kcidb
	expect_eq "'$c': the man page's options are --help's" \
		"$(man_opts "$c")" "$("$HVM" $c $sub --help | help_opts)"
done
for s in $subs; do
	expect_eq "'matrix $s': the man page's options are --help's" \
		"$(man_opts "matrix $s")" "$("$HVM" matrix $s --help | help_opts)"
done

# Every key of the loader's tables, in hvmatrix-matrix(5).
keys() { sed -n 's/^	{ "\([a-z_]*\)", [0-9A-Z_]*, .*/\1/p' "$@"; }
cell_keys=$(keys "$top_srcdir/orchestrator/matrix/cell.c")
m="$top_srcdir/orchestrator/matrix"
section_keys=$(keys "$m/matrix-trees.c" "$m/matrix-builds.c" \
	"$m/matrix-webhooks.c" "$m/matrix-report.c" "$m/matrix-executor.c" \
	"$m/matrix-web.c")
top_keys=$(sed -n '/top_keys\[\]/,/};/p' "$m/matrix.c" |
	grep -o '"[a-z]*"' | tr -d '"')
expect_eq "the loader has 24 cell keys" "$(echo $cell_keys | wc -w)" 24
# The tables were found: a moved one would leave its keys unchecked.
expect_eq "the sections have 39 keys" "$(echo $section_keys | wc -w)" 39
expect_eq "the top level has 9 keys" "$(echo $top_keys | wc -w)" 9
missing=
for k in $top_keys $cell_keys $section_keys; do
	grep -q "^\*$k\* (" "$scd5" || missing="$missing $k"
done
expect_eq "hvmatrix-matrix(5) documents every key with its type" \
	"${missing:-none}" none
no_default=
for k in $cell_keys; do
	grep "^\*$k\* (" "$scd5" | grep -q 'default\|required' ||
		no_default="$no_default $k"
done
expect_eq "every cell key's entry gives a default (or says required)" \
	"${no_default:-none}" none

check "hvmatrix(1) renders" \
	sh -c "MANWIDTH=80 man -l '$man1' 2>&1 | grep -q '^NAME'"
check "hvmatrix-matrix(5) renders" \
	sh -c "MANWIDTH=80 man -l '$man5' 2>&1 | grep -q '^NAME'"
check "the installed paths are filled in" \
	sh -c "! grep -q '@[A-Z]*@' '$man1' '$man5'"
finish
