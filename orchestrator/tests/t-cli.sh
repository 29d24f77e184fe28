#!/usr/bin/env bash
# Integration: the CLI contract without booting anything: --help on every
# command, exit codes, file:line:col errors for bad matrices, matrix
# editing that keeps comments and order, ERROR for a missing image.
. "$(dirname "$0")/lib.sh"

st() { "$@" > "$TMP/out" 2> "$TMP/err"; echo $?; }

expect_eq "hvmatrix --help exits 0" "$(st "$HVM" --help)" 0
for c in boot matrix results dashboard "matrix add" "matrix list" \
	 "matrix show" "matrix remove" "matrix check" daemon run status; do
	# shellcheck disable=SC2086
	rc=$(st "$HVM" $c --help)
	check "'hvmatrix $c --help' exits 0 and prints usage" \
		test "$rc" = 0 -a -s "$TMP/out"
	check "'hvmatrix $c --help' mentions usage" grep -qi usage "$TMP/out"
done
expect_eq "unknown command exits 2" "$(st "$HVM" frobnicate)" 2
expect_eq "boot without --kernel exits 2" "$(st "$HVM" boot)" 2
expect_eq "boot --jobs 0 exits 2" "$(st "$HVM" boot --kernel x --jobs 0)" 2
expect_eq "run without --tree/--rev exits 2" "$(st "$HVM" run)" 2
expect_eq "run of a tree the matrix lacks exits 2" \
	"$(st "$HVM" run --tree nosuch --rev HEAD)" 2
check "run names the missing tree" grep -q "no tree 'nosuch'" "$TMP/err"
nobuild=$TMP/nobuild.yaml
printf 'trees:\n  - name: t\n    path: /nonexistent\ncells: []\n' > "$nobuild"
expect_eq "daemon without build configs exits 2" \
	"$(st "$HVM" daemon --matrix "$nobuild" --until-idle)" 2
check "daemon says what the matrix lacks" grep -q "no build configs" "$TMP/err"

# A malformed matrix: the error names file, line and column.
bad=$TMP/bad.yaml
printf 'cells:\n  - name: a\n    machine: pc\n    memroy: 256\n' > "$bad"
expect_eq "matrix check of a bad file exits 2" "$(st "$HVM" matrix check "$bad")" 2
check "error is file:line:col: unknown key" \
	grep -q "^$bad:4:5: unknown key 'memroy'" "$TMP/err" "$TMP/out"
expect_eq "boot refuses the bad matrix with exit 2" \
	"$(st "$HVM" boot --kernel /nonexistent --matrix "$bad")" 2
check "boot names file:line:col" grep -q "^$bad:4:5:" "$TMP/err"
printf 'cells:\n  - name: a\n    memory: [1, 2]\n  - name: a\n' > "$bad"
st "$HVM" matrix check "$bad" > /dev/null
check "wrong type is reported at its line and column" \
	grep -q "^$bad:3:13:" "$TMP/err" "$TMP/out"
printf 'cells:\n  - name: a\n  - name: b\n    timeout: "x\n' > "$bad"
st "$HVM" matrix check "$bad" > /dev/null
check "YAML syntax errors carry a position" \
	grep -qE "^$bad:[0-9]+:[0-9]+: " "$TMP/err" "$TMP/out"

# Editing keeps every existing line, comments included.
m=$TMP/m.yaml
cp "$top_srcdir/matrices/default.yaml" "$m"
cp "$m" "$TMP/orig.yaml"
expect_eq "matrix add exits 0" "$(st "$HVM" matrix add old-pc --file "$m" \
	--machine pc-i440fx-2.4 --cpu qemu64 --memory 512 \
	--qemu-arg -device --qemu-arg "isa-debug-exit" \
	--expect hypervisor=none)" 0
check "matrix add only adds lines" \
	bash -c '! diff "$1" "$2" | grep -q "^<"' _ "$TMP/orig.yaml" "$m"
check "matrix add keeps the comments" \
	test "$(grep -c '#' "$TMP/orig.yaml")" = "$(grep -c '#' "$m")"
expect_eq "the file still checks" "$(st "$HVM" matrix check "$m")" 0
expect_eq "matrix show --json has the new cell's machine" \
	"$("$HVM" matrix show old-pc --file "$m" --json | jq -r .machine)" \
	pc-i440fx-2.4
expect_eq "qemu args kept in order" \
	"$("$HVM" matrix show old-pc --file "$m" --json | jq -c .qemu_args)" \
	'["-device","isa-debug-exit"]'
expect_eq "matrix list --json lists one cell more than before" \
	"$("$HVM" matrix list --file "$m" --json | jq length)" \
	$(( $("$HVM" matrix list --file "$TMP/orig.yaml" --json | jq length) + 1 ))
cp "$m" "$TMP/before-dup.yaml"
expect_eq "a duplicate name is refused with exit 2" \
	"$(st "$HVM" matrix add old-pc --file "$m")" 2
check "the refused add left the file unchanged" cmp -s "$m" "$TMP/before-dup.yaml"
expect_eq "a bad value is refused with exit 2" \
	"$(st "$HVM" matrix add x --file "$m" --memory lots)" 2
check "the message names the option" grep -q -- "--memory" "$TMP/err"
expect_eq "matrix remove exits 0" "$(st "$HVM" matrix remove old-pc --file "$m")" 0
check "remove restores the original file" cmp -s "$m" "$TMP/orig.yaml"
expect_eq "removing an unknown cell exits 2" \
	"$(st "$HVM" matrix remove nope --file "$m")" 2

# The store, empty.
expect_eq "results on an empty store exits 0" "$(st "$HVM" results)" 0
expect_eq "results --json on an empty store is []" \
	"$("$HVM" results --json | jq -c .)" "[]"

# A missing kernel image is the farm's ERROR (exit 3), not a FAIL.
expect_eq "boot with a missing kernel exits 3" \
	"$(st "$HVM" boot --kernel "$TMP/no-such-bzImage" --cell 'q35-7.2' \
		--matrix "$top_srcdir/matrices/default.yaml" --json)" 3
expect_eq "the cell is ERROR" "$(jq -r '.[0].verdict' "$TMP/out")" ERROR
check "the reason names the image" \
	grep -q "no-such-bzImage" "$TMP/out"
expect_eq "the ERROR is recorded" \
	"$("$HVM" results --json | jq -r '.[0].verdict')" ERROR
finish
