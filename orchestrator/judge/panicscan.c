#include "judge/panicscan.h"

#include <string.h>

void panicscan_init(struct panicscan *s)
{
	memset(s, 0, sizeof(*s));
}

/*
 * p points at the needle, with avail bytes known from it. 1: a message
 * (copied to s->found); 0: not one (a format string, nothing after it);
 * -1: cannot tell yet, the message may go on in the next chunk.
 */
static int panic_at(struct panicscan *s, const char *p, size_t avail)
{
	const unsigned char *m = (const unsigned char *)p +
				 PANICSCAN_NEEDLE_LEN;
	size_t mavail = avail - PANICSCAN_NEEDLE_LEN, i;

	/* The message ends at the first byte that is not printable ASCII. */
	for (i = 0; i < mavail && i < PANICSCAN_MAX; i++)
		if (m[i] < 0x20 || m[i] > 0x7e)
			break;
	if (i == mavail && i < PANICSCAN_MAX)
		return -1;
	if (!i || (i >= 2 && m[0] == '%' && m[1] == 's'))
		return 0;
	/*
	 * A log record keeps a newline after the message (below), a console
	 * ends its lines with one: a copy that ends otherwise is some stale
	 * buffer, not the message.
	 */
	if (i < PANICSCAN_MAX && m[i] != '\n' && m[i] != '\r')
		return 0;
	/*
	 * A log record (Linux 6.1's printk_sprint) is written with its level
	 * prefix, then its newline is cut off and the text moved over the
	 * 2-byte prefix: the memory after it keeps the text's last two bytes
	 * a second time, then the old newline ("...setupup\n"). Those two are
	 * not the message.
	 */
	if (i < PANICSCAN_MAX && m[i] == '\n' && i >= 4 &&
	    !memcmp(m + i - 2, m + i - 4, 2))
		i -= 2;
	memcpy(s->found, p, PANICSCAN_NEEDLE_LEN + i);
	s->found[PANICSCAN_NEEDLE_LEN + i] = '\0';
	return 1;
}

/* Search [from, end) for matches starting before limit. */
static int panic_search(struct panicscan *s, const char *from,
			const char *end, const char *limit,
			const char **pending)
{
	const char *q = from;
	int r;

	*pending = NULL;
	while (q < limit && (q = memmem(q, (size_t)(end - q),
				       PANICSCAN_NEEDLE,
				       PANICSCAN_NEEDLE_LEN)) && q < limit) {
		r = panic_at(s, q, (size_t)(end - q));
		if (r == 1)
			return 1;
		if (r < 0) {
			*pending = q;
			return 0;
		}
		q++;
	}
	return 0;
}

int panicscan_feed(struct panicscan *s, const void *buf, size_t len)
{
	const char *b = buf, *pending;
	char win[2 * sizeof(s->carry)];
	size_t take, wl, keep;

	if (s->found[0])
		return 1;
	/* Matches that begin in what was kept of the last chunk. */
	if (s->n_carry) {
		take = len < sizeof(s->carry) ? len : sizeof(s->carry);
		memcpy(win, s->carry, s->n_carry);
		memcpy(win + s->n_carry, b, take);
		wl = s->n_carry + take;
		if (panic_search(s, win, win + wl, win + s->n_carry, &pending))
			return 1;
		if (pending) {
			/* Still open only when this chunk was short. */
			s->n_carry = (size_t)(win + wl - pending);
			memmove(s->carry, pending, s->n_carry);
			return 0;
		}
	}
	if (panic_search(s, b, b + len, b + len, &pending))
		return 1;
	if (pending) {
		s->n_carry = (size_t)(b + len - pending);
		memcpy(s->carry, pending, s->n_carry);
		return 0;
	}
	/* Keep what could be the start of a needle cut by the chunk's end. */
	keep = PANICSCAN_NEEDLE_LEN - 1;
	if (len >= keep) {
		memcpy(s->carry, b + len - keep, keep);
		s->n_carry = keep;
	} else {
		wl = s->n_carry + len;
		memcpy(win, s->carry, s->n_carry);
		memcpy(win + s->n_carry, b, len);
		s->n_carry = wl < keep ? wl : keep;
		memcpy(s->carry, win + wl - s->n_carry, s->n_carry);
	}
	return 0;
}
