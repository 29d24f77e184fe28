/*
 * judge: turns a run's console stream and the way its QEMU ended into a
 * verdict, a reason and the line that decided it. It is fed bytes as they
 * arrive (lines may be split across reads, CRLF, terminal escapes) and
 * tells the runner when to stop early. It never touches processes or
 * files: the runner does, the judge only decides.
 *
 * PASS needs the payload's marker "HVMATRIX-OK nonce=<this run's nonce>"
 * at the start of a line (the kernel echoes its command line, so the nonce
 * alone proves nothing) and every `expect` of the cell met (expect.h).
 *
 * A hypervisor that cannot load the kernel's image (its format or its
 * compression: Xen's dom0 builder, libxenguest through the agent, QEMU's
 * -kernel loader) is one finding in every cell kind: FAIL, its reason
 * starting with JUDGE_IMAGE_UNLOADABLE, the hypervisor's own line
 * decisive. FAIL because the cause is the kernel image as built (a format
 * or a compression this hypervisor release does not read) and it is
 * exactly what the compatibility web exists to show: ERROR would hide it
 * as the farm's trouble (looked through by every comparison) and SKIP
 * would claim the host cannot run the cell. The distinct reason keeps it
 * apart from a kernel that loaded and then died, in the signature too.
 */
#ifndef HVM_JUDGE_H
#define HVM_JUDGE_H

#include <stddef.h>
#include <stdint.h>
#include "lib/strbuf.h"
#include "judge/verdict.h"
#include "judge/guest-probes.h"
#include "judge/expect.h"
#include "judge/early.h"

#define JUDGE_MARKER "HVMATRIX-OK nonce="
#define JUDGE_AGENT "hvmatrix-agent: "
#define JUDGE_IMAGE_UNLOADABLE "image-unloadable"

/* What judge_feed asks of the runner. */
enum judge_action {
	JUDGE_CONTINUE = 0,
	JUDGE_FAILING,		/* failure seen: capture ~1 s more, then stop */
	JUDGE_PASSING,		/* marker seen: let the guest power off */
};

struct judge {
	char *nonce;
	struct expect expect;

	struct strbuf partial;	/* the line being assembled */
	int esc;		/* escape-sequence parser state */
	size_t n_lines;
	int kernel_spoke;	/* a line of the kernel's own, not firmware's */
	struct strbuf last_line;	/* last non-empty line */
	struct strbuf stderr_text;	/* QEMU's stderr, first 4 KiB */
	char *hypervisor;	/* as reported by the payload's init */
	char *wrong_marker;	/* a marker line with another nonce */
	/* A hypervisor's line saying it cannot read the kernel's image,
	 * until its consequence (a panic, an exit) decides. */
	char *unloadable;
	/* From QEMU's reset log (judge_reset_log): the CPU's state at the
	 * guest's first reset, for a guest that printed nothing. */
	char *reset_line;

	/*
	 * Guest mode (libxl cells): the console also carries Xen and a dom0
	 * that are not under test. Only the lines between the agent's
	 * "hvmatrix-agent: begin job=NAME" and "... end job=NAME fate=..."
	 * are the kernel's; a failure outside them is the farm's (ERROR).
	 */
	char *guest;	/* the agent's name for our guest, CELL@NONCE */
	int in_guest, guest_started;
	int in_other_guest;	/* inside another guest's lines */
	double guest_seconds;	/* the guest's run, as the agent timed it */
	int agent_suspends;	/* its ready line said handover=suspend */

	/* The payload's probes (guest-probes.h); `now`: the host's
	 * monotonic seconds when the bytes being fed arrived (0: unknown),
	 * set by the runner, for the clock probe's comparison. */
	struct guest_probes probes;
	double now;

	enum judge_action action;
	enum verdict verdict;
	char *reason;
	char *line;
};

void judge_init(struct judge *j, const char *nonce, char *const *expect,
		size_t n_expect);
void judge_release(struct judge *j);
/* Guest mode: the agent's guest called `guest` (its job= on the wire). */
void judge_set_guest(struct judge *j, const char *guest);

/*
 * The guest an agent's "hvmatrix-agent: WHAT job=NAME ..." line names (n
 * bytes, not NUL-terminated): NAME's start and *len, else NULL. The judge
 * and the runner that routes a group's console to each run's log read
 * these lines the same way.
 */
const char *judge_agent_guest(const char *line, size_t n, const char *what,
			      size_t *len);

/* The cell's clock_tolerance (default GUEST_PROBES_DEFAULT_TOLERANCE). */
void judge_set_clock_tolerance(struct judge *j, double tolerance);
/* The host's monotonic time of the bytes fed next (seconds). */
static inline void judge_set_now(struct judge *j, double now)
{
	j->now = now;
}
/*
 * A hand-over probe ("suspend", "migrate") the guest said it is ready
 * for, once: the caller owns the string and must act (save and restore
 * the guest, then write "HVMATRIX-GO nonce=N" to its console). NULL when
 * none is pending.
 */
char *judge_take_handover(struct judge *j);

/* Console bytes (QEMU's stdout). Returns the action in force. */
enum judge_action judge_feed(struct judge *j, const char *buf, size_t len);
/* QEMU's stderr bytes: kept for the reason of an ERROR. */
void judge_feed_stderr(struct judge *j, const char *buf, size_t len);

/*
 * QEMU's reset log (-d cpu_reset -D FILE) as text, before judge_exit: a
 * guest that resets before its console printed anything gets the CPU's
 * state at that reset as its decisive line.
 */
void judge_reset_log(struct judge *j, const char *text);
/*
 * The same log while the run lives (a cell whose QEMU lets the guest's
 * reset happen): at the first reset the guest caused, decides (FAIL, or
 * a pending PASS) and returns 1; the runner then stops QEMU before the
 * guest boots again. The decisive line is the console's last, or the
 * CPU's state when the console showed nothing.
 */
int judge_guest_reset(struct judge *j, const char *log);
/* Ends of a run; the first decisive one wins. */
void judge_timeout(struct judge *j, unsigned seconds);
void judge_silence(struct judge *j, unsigned seconds);
/* The farm could not run it (spawn failed, image missing, ...). */
void judge_error(struct judge *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void judge_skip(struct judge *j, const char *reason);
/*
 * A verdict another judge decided (a run on a cluster node, read back from
 * its result file): taken as it is, the first decisive end still wins.
 */
void judge_set(struct judge *j, enum verdict v, const char *reason,
	       const char *line);
/*
 * QEMU ended. killed_by_us: the runner stopped it after the judge asked
 * (JUDGE_FAILING or JUDGE_PASSING grace ran out). Flushes any partial line.
 */
void judge_exit(struct judge *j, int64_t exit_status, int term_signal,
		int killed_by_us);

/* Decided verdict (VERDICT_NONE until an end was reported). */
static inline enum verdict judge_verdict(const struct judge *j)
{
	return j->verdict;
}

#endif
