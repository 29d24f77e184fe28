/*
 * replay: runs a fuzz target's LLVMFuzzerTestOneInput over files without
 * libFuzzer, so `make check` (and the sanitizer build of the tests)
 * replays the seed corpus and every input that once made a target fail.
 * usage: fuzz-TARGET-replay [DIR|FILE...], by default FUZZ_CORPUS (the
 * target's fuzz/corpus/ directory); each file is one input. Prints "ok 1"
 * when every input ran; an invariant that breaks aborts, naming the input
 * on the line before.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/fsutil.h"
#include "fuzz.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"

static int n_run;

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (fsutil_read(path, &sb) < 0) {
		printf("not ok 1 - cannot read %s\n", path);
		exit(1);
	}
	printf("# %s\n", path);
	fflush(stdout);
	LLVMFuzzerTestOneInput((const uint8_t *)sb.buf, sb.len);
	n_run++;
	strbuf_release(&sb);
}

static void replay(const char *path)
{
	struct stat st;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, alloc = 0, i;
	DIR *d;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		replay_file(path);
		return;
	}
	d = opendir(path);
	if (!d) {
		printf("not ok 1 - cannot open %s\n", path);
		exit(1);
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		ALLOC_GROW(names, n + 1, alloc);
		names[n++] = xstrfmt("%s/%s", path, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	for (i = 0; i < n; i++) {
		replay(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2)
		replay(FUZZ_CORPUS);
	for (i = 1; i < argc; i++)
		replay(argv[i]);
	if (!n_run) {
		printf("not ok 1 - no inputs\n");
		return 1;
	}
	printf("ok 1 - %s: %d inputs replayed\n", argv[0], n_run);
	return 0;
}
