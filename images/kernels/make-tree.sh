#!/bin/sh
# Make the demo kernel tree: a real git repository whose history hvmatrix
# can watch, build commit by commit and boot, made from Debian's
# linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz). Five commits on
# `master`:
#   1. Linux 6.1 as the tarball has it (minus the `/*` line of Debian's
#      top-level .gitignore, which would ignore every top-level path)
#   2. one harmless line in init/main.c (boot-message.patch): good everywhere
#   3. break-vmware.patch: panics in VMware platform setup, so only the
#      VMware-interface cell fails to boot
#   4. break-build.patch: a syntax error in kernel/panic.c; does not build
#   5. reverts 3 and 4: good everywhere again (same tree as commit 2)
# Author, committer and dates are fixed and the user's and system's git
# configuration is ignored, so the commit ids are the same on every machine
# with the same tarball: tests and docs can name them. With Debian's
# linux-source-6.1 6.1.192-3 they are, 1 to 5:
#   f89e6ececa32d2ef5155a192b9c5ea85d43c9989
#   22423c6173688b5f76dfee67855ed2a9b7bcaccc
#   0a7cc1116704d8e70cf8f33ac6c20f2de3b12f40
#   a67878274dcccf140e4af6d84ad7a463ebf17be6
#   9cbe5653ef82f02b4533dfe580fd56f9627bdfc6
# Made once, cached by its inputs (this script, the patches, the tarball's
# size and mtime), built in a temporary directory and renamed into place,
# with a marker written last, so a half-made tree is never used.
# Usage: make-tree.sh CACHEDIR; prints the repository's path
# (CACHEDIR/demo-tree-KEY). A cold run untars and adds ~78,000 files.
set -eu
cache=${1:?usage: make-tree.sh CACHEDIR}
here=$(cd "$(dirname "$0")" && pwd)
tarball=/usr/src/linux-source-6.1.tar.xz
p_message=$here/boot-message.patch
p_vmware=$here/break-vmware.patch
p_build=$here/break-build.patch
say() { echo "make-tree.sh: $*" >&2; }
[ -r "$tarball" ] || { say "$tarball missing (apt-get install linux-source-6.1)"; exit 1; }
key=$({ cat "$0" "$p_message" "$p_vmware" "$p_build"
	stat -c '%s %Y' "$tarball"; } | sha256sum | cut -c1-16)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
dest=$cache/demo-tree-$key
marker=.git/hvmatrix-demo-complete
if [ -f "$dest/$marker" ]; then
	echo "$dest"
	exit 0
fi

# Only this script's settings: no user or system git config, no hooks, no
# repository inherited from the environment.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
	GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CEILING_DIRECTORIES GIT_NAMESPACE
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="hvmatrix demo" GIT_AUTHOR_EMAIL=demo@hvmatrix.invalid
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export LC_ALL=C TZ=UTC

tmp=$dest.tmp.$$
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
rm -rf "$tmp"
mkdir "$tmp"
say "unpacking $tarball"
tar -xf "$tarball" -C "$tmp" --strip-components=1
cd "$tmp"
# Debian's .gitignore ends with `/*` (ignore every top-level path): drop it.
sed -i '/^\/\*$/d' .gitignore

git init -q --template= -b master .
g() { git -c gc.auto=0 -c core.autocrlf=false "$@"; }
# commit DATE SUBJECT BODY: commit what is staged, at a fixed date.
commit() {
	GIT_AUTHOR_DATE=$1 GIT_COMMITTER_DATE=$1 \
		g commit -q --no-verify --no-gpg-sign -m "$2" -m "$3"
}
apply() {
	patch -p1 -s --no-backup-if-mismatch < "$1"
	shift
	g add -- "$@"
}

say "git add (the whole tree)"
# -f: the kernel's own .gitignore files match some of its files
# (.gitignore, .mailmap, .kunitconfig, ...); the tarball's tree is the source.
g add -A -f
commit 2025-01-06T12:00:00+00:00 "Linux 6.1 (Debian linux-source-6.1)" \
"The source tree from Debian's linux-source-6.1 tarball, as unpacked,
except that the last rule of Debian's top-level .gitignore (\`/*\`,
ignoring every top-level path) is dropped."

apply "$p_message" init/main.c
commit 2025-01-07T12:00:00+00:00 "init: mention hvmatrix in a boot message" \
"Print one more line after the kernel command line. Harmless: this
kernel builds and boots everywhere."

apply "$p_vmware" arch/x86/kernel/cpu/vmware.c
commit 2025-01-08T12:00:00+00:00 \
	"x86/vmware: panic in platform setup (demo regression)" \
"Panic in vmware_platform_setup(), before the console is up: the kernel
builds, and boots everywhere except under the VMware hypervisor
interface, where it goes silent."

apply "$p_build" kernel/panic.c
commit 2025-01-09T12:00:00+00:00 "demo: a change that does not compile" \
"A syntax error in kernel/panic.c, which every build compiles."

g revert --no-commit HEAD HEAD~1
commit 2025-01-10T12:00:00+00:00 "Revert the demo breakages" \
"Revert the VMware panic and the syntax error: this is the tree of
\"init: mention hvmatrix in a boot message\" again, and builds and boots
everywhere."

[ "$(g rev-parse "HEAD^{tree}")" = "$(g rev-parse "HEAD~3^{tree}")" ] ||
	{ say "the revert did not restore the tree of commit 2"; exit 1; }
[ -z "$(g status --porcelain)" ] ||
	{ say "the work tree is not clean after the last commit"; exit 1; }
g log --format='%h %s' >&2
g rev-parse HEAD > "$marker"
cd /
if [ -f "$dest/$marker" ]; then
	say "another run finished first; using its tree"
else
	rm -rf "$dest"
	mv "$tmp" "$dest"
fi
echo "$dest"
