/*
 * fuzz-judge: the console judge (judge.c) on any byte stream in any
 * chunking. A guest prints anything, and the pipe cuts it anywhere, so
 * the verdict, its reason and its line must not depend on where the
 * reads fell: the stream is judged once whole and once in the chunks the
 * input's first bytes give, and both must agree.
 *
 * Input: flags, n, n chunk sizes (each byte + 1, used in turn), stream.
 * flags bit 0: guest mode (a libxl job); bit 1: expect a Xen report too;
 * bits 2-3: how the run ends (exit 0, exit 1, timeout, silence); bit 4:
 * stderr gets the stream too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "judge/judge.h"

#define NONCE "f00dfeed42"

static void run(struct judge *j, unsigned flags, const uint8_t *sizes,
		size_t n_sizes, const uint8_t *s, size_t len)
{
	static char *const expect[] = {
		"hypervisor=none", "Hypervisor detected: Xen PV",
	};
	size_t off = 0, k = 0;

	judge_init(j, NONCE, expect, flags & 2 ? 2 : 1);
	if (flags & 1)
		judge_set_guest(j, "g1");
	while (off < len) {
		size_t n = n_sizes ? (size_t)sizes[k++ % n_sizes] + 1 : len;

		if (n > len - off)
			n = len - off;
		judge_feed(j, (const char *)s + off, n);
		if (flags & 16)
			judge_feed_stderr(j, (const char *)s + off, n);
		off += n;
	}
	switch ((flags >> 2) & 3) {
	case 0: judge_exit(j, 0, 0, 0); break;
	case 1: judge_exit(j, 1, 0, 0); break;
	case 2: judge_timeout(j, 120); break;
	case 3: judge_silence(j, 30); break;
	}
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct judge whole, cut;
	const uint8_t *sizes;
	unsigned flags;
	size_t n_sizes;

	if (size < 2)
		return 0;
	flags = data[0];
	n_sizes = data[1] % 16;
	if (size < 2 + n_sizes)
		return 0;
	sizes = data + 2;
	data += 2 + n_sizes;
	size -= 2 + n_sizes;

	run(&whole, flags, NULL, 0, data, size);
	run(&cut, flags, sizes, n_sizes, data, size);
	if (judge_verdict(&whole) == VERDICT_NONE)
		FUZZ_FAIL("no verdict after the run ended");
	if (judge_verdict(&whole) != judge_verdict(&cut) ||
	    !same(whole.reason, cut.reason) || !same(whole.line, cut.line))
		FUZZ_FAIL("chunking changed the verdict: %s \"%s\" vs %s "
			  "\"%s\"", verdict_name(judge_verdict(&whole)),
			  whole.reason, verdict_name(judge_verdict(&cut)),
			  cut.reason);
	judge_release(&whole);
	judge_release(&cut);
	return 0;
}
