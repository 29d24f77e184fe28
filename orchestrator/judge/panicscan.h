/*
 * panicscan: a kernel's panic message in a byte stream: a console as it
 * is relayed, or a crashed guest's memory, page after page. A kernel that
 * panics before its console is up (early PV setup, before it has read its
 * command line) prints nothing anywhere, but its log buffer in memory
 * holds the message. The kernel image's own format strings ("...: %s")
 * are skipped. Fed in chunks of any size; a match across two is found.
 *
 * Self-contained (libc only): the libxl guest agent, which runs in a dom0
 * with Debian's libraries alone, compiles it in too.
 */
#ifndef HVM_PANICSCAN_H
#define HVM_PANICSCAN_H

#include <stddef.h>

#define PANICSCAN_NEEDLE "Kernel panic - not syncing: "
#define PANICSCAN_NEEDLE_LEN (sizeof(PANICSCAN_NEEDLE) - 1)
#define PANICSCAN_MAX 200	/* bytes of message kept after the needle */

struct panicscan {
	char carry[PANICSCAN_NEEDLE_LEN + PANICSCAN_MAX];
	size_t n_carry;
	char found[PANICSCAN_NEEDLE_LEN + PANICSCAN_MAX + 1]; /* "": none */
};

void panicscan_init(struct panicscan *s);
/* 1 once the message is found (in s->found), else 0. */
int panicscan_feed(struct panicscan *s, const void *buf, size_t len);

#endif
